# One root for every environment (dev, staging, prod): the module call is written once, here; what
# differs per environment is in ENV.tfvars (projects, sizes, schedules, the managed secrets) and
# ENV.gcs.tfbackend (the state prefix). A plan is per environment:
#   terraform init -reconfigure -backend-config=prod.gcs.tfbackend -backend-config="bucket=…"
#   terraform plan -var-file=prod.tfvars -var "function_source_object=gsm-rotator/BUILD.zip"
# All the logic lives in ../modules/gsm-rotator (README.md there lists every input).

locals {
  # In a tfvars file consumers is an HCL object (tfvars cannot call functions); the module takes
  # the JSON of the rotator.consumers annotation.
  managed_secrets = {
    for id, s in var.managed_secrets : id => merge(s, {
      consumers = try(jsonencode(s.consumers), null)
    })
  }
}

module "gsm_rotator" {
  source = "../modules/gsm-rotator"

  environment = var.environment
  project_id  = var.project_id
  region      = var.region

  function_source = {
    bucket = var.function_source_bucket
    object = var.function_source_object
  }
  build_service_account = var.build_service_account

  functions       = var.functions
  log_level       = var.log_level
  retire_schedule = var.retire_schedule

  managed_secrets  = local.managed_secrets
  admin_secrets    = var.admin_secrets
  databricks_hosts = var.databricks_hosts

  vpc_connector = var.vpc_connector

  operator_members            = var.operator_members
  alert_notification_channels = var.alert_notification_channels
  log_retention_days          = var.log_retention_days
}
