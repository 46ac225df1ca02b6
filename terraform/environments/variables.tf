# Inputs of the environments root: one tfvars file per environment sets them (dev.tfvars,
# staging.tfvars, prod.tfvars). The module validates every value (../modules/gsm-rotator); the
# choices that differ between environments have no default here, so each tfvars states them.

variable "environment" {
  description = "dev, staging or prod: part of every resource name. Must match the tfvars file and the backend prefix (the policy test checks it)."
  type        = string
}

variable "project_id" {
  description = "The environment's project (one project per environment)."
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
  description = "The archive to deploy, e.g. gsm-rotator/BUILD_ID.zip. cloudbuild.yaml passes the one it built (-var); set it only for a manual apply. Re-applying an older one rolls back a deploy (docs/operations.md)."
  type        = string
}

variable "build_service_account" {
  description = "Service account that builds the functions (projects/P/serviceAccounts/EMAIL), or null for the project default."
  type        = string
  default     = null
}

variable "functions" {
  description = "Per-function sizing (the module's functions input): e.g. { rotate_secret = { max_instances = 10 } }."
  type        = any
}

variable "log_level" {
  description = "LOG_LEVEL of the functions (DEBUG in dev, INFO elsewhere)."
  type        = string
}

variable "retire_schedule" {
  description = "Cron schedule of the retire tick."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the rotation-history log bucket."
  type        = number
}

variable "managed_secrets" {
  description = "The module's managed_secrets, except that consumers is an HCL object here (main.tf turns it into the JSON the module takes)."
  type        = any
}

variable "admin_secrets" {
  description = "The module's admin_secrets: the admin credentials' secrets, created empty."
  type        = any
}

variable "databricks_hosts" {
  description = "The only Databricks workspace URLs consumers may name (ROTATOR_DATABRICKS_HOSTS)."
  type        = list(string)
  default     = []
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
