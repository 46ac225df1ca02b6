variable "project_id" {
  description = "The dev project (one project per environment)."
  type        = string
}

variable "region" {
  description = "Region of the functions."
  type        = string
}

variable "function_source_bucket" {
  description = "Bucket holding the built function archives (cloudbuild.yaml uploads them)."
  type        = string
}

variable "function_source_object" {
  description = "The archive to deploy, e.g. gsm-rotator/COMMIT_SHA.zip. cloudbuild.yaml passes the one it built."
  type        = string
}

variable "build_service_account" {
  description = "Service account that builds the functions (projects/P/serviceAccounts/EMAIL), or null for the project default."
  type        = string
  default     = null
}

variable "databricks_workspace_url" {
  description = "URL of the Databricks workspace whose jobs use the example secret."
  type        = string
}

variable "vpc_connector" {
  description = "Serverless VPC Access connector for private-IP databases (projects/P/locations/R/connectors/N), or null."
  type        = string
  default     = null
}

variable "operator_members" {
  description = "Who runs the gsm-rotator CLI here (group:… recommended)."
  type        = list(string)
  default     = []
}

variable "alert_notification_channels" {
  description = "Notification channels for the rotation alerts (projects/P/notificationChannels/N)."
  type        = list(string)
  default     = []
}
