variable "project_id" {
  description = "The project to deploy into (one project per environment)."
  type        = string
}

variable "region" {
  description = "Region of the functions."
  type        = string
}

variable "function_source_bucket" {
  description = "Bucket holding the function archive (npm run pack:function, then upload: docs/deploy.md)."
  type        = string
}

variable "function_source_object" {
  description = "The archive, e.g. gsm-rotator/COMMIT_SHA.zip."
  type        = string
}

variable "databricks_workspace_url" {
  description = "The Databricks workspace whose job uses the credential, https://…gcp.databricks.com."
  type        = string
}

variable "databricks_job_id" {
  description = "The continuous job that reads the secret-scope copy (restarted after each rotation)."
  type        = number
}

variable "databricks_cluster_service_accounts" {
  description = "Google service accounts of the job clusters that read the secret at run time, as serviceAccount:EMAIL."
  type        = list(string)
}
