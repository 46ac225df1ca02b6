# The staging environment: one root per environment, each with its own state, its own project and its
# own reviewable configuration. All the logic lives in ../../modules/gsm-rotator.

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = ">= 6.0, < 8.0"
    }
  }

  # State in a GCS bucket (versioned, in a project the deployers control), one prefix per
  # environment. The bucket is given at init, so that this file names no project:
  #   terraform init -backend-config="bucket=YOUR_TF_STATE_BUCKET"
  # To try the configuration without remote state, use: terraform init -backend=false
  backend "gcs" {
    prefix = "gsm-rotator/staging"
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

provider "google-beta" {
  project = var.project_id
  region  = var.region
}

locals {
  # EXAMPLE: replace with your own databases. The secrets are created empty; add each one's first
  # version (the credential JSON) yourself, as docs/deploy.md shows. Rotation here: weekly, by a
  # cron schedule in quiet hours (Sundays 02:00-05:00 Berlin time); the rotator sets each
  # next_rotation_time (docs/operations.md, "Schedules, windows and pause").
  managed_secrets = {
    "orders-db-app" = {
      engine       = "postgres"
      strategy     = "alternating-users"
      admin_secret = "orders-db-admin"
      # The login in the credential JSON; orders-db-admin serves it and orders_app_clone.
      login              = "orders_app"
      schedule           = "0 2 * * 0"
      time_zone          = "Europe/Berlin"
      window             = "3h"
      grace_period       = "12h"
      max_grace_period   = "2d"
      test_query         = "SELECT 1"
      retention_versions = 5
      consumers = jsonencode({
        workspace = {
          host = var.databricks_workspace_url
          # refreshConsumers signs in with a Google ID token of its own service account.
          auth = { type = "google-id" }
        }
        targets = [
          # Jobs that read dbutils.secrets.get("orders", "db-credential") get the new JSON.
          { kind = "secret-scope", scope = "orders", key = "db-credential" },
          # A continuous job: its active run is cancelled and Databricks restarts it.
          { kind = "job", jobId = 123456789, mode = "continuous" },
        ]
      })
    }
  }

  admin_secrets = {
    "orders-db-admin" = {}
  }
}

module "gsm_rotator" {
  source = "../../modules/gsm-rotator"

  environment = "staging"
  project_id  = var.project_id
  region      = var.region

  function_source = {
    bucket = var.function_source_bucket
    object = var.function_source_object
  }
  build_service_account = var.build_service_account

  functions = {
    rotate_secret = { max_instances = 5 }
  }
  log_level       = "INFO"
  retire_schedule = "*/15 * * * *"

  managed_secrets = local.managed_secrets
  admin_secrets   = local.admin_secrets
  # The only workspace consumers may name (ROTATOR_DATABRICKS_HOSTS).
  databricks_hosts = [var.databricks_workspace_url]

  vpc_connector = var.vpc_connector

  operator_members            = var.operator_members
  alert_notification_channels = var.alert_notification_channels
  log_retention_days          = 180
}

output "gsm_rotator" {
  description = "Topics, functions, service accounts and secrets of the staging environment."
  value = {
    topics                            = module.gsm_rotator.topics
    functions                         = module.gsm_rotator.functions
    refresh_consumers_service_account = module.gsm_rotator.refresh_consumers_service_account
    managed_secrets                   = module.gsm_rotator.managed_secrets
    admin_secrets                     = module.gsm_rotator.admin_secrets
    dead_letter_subscriptions         = module.gsm_rotator.dead_letter_subscriptions
    log_bucket                        = module.gsm_rotator.log_bucket
    retire_tick_job                   = module.gsm_rotator.retire_tick_job
  }
}
