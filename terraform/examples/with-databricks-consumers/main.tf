# A MySQL credential on Cloud SQL, rotated with dual passwords every Sunday at 02:00 Berlin time,
# read by Databricks in both ways docs/databricks.md ("Consumers") describes:
#   - at run time: the job cluster's Google service account reads Secret Manager itself
#     (readers: roles/secretmanager.secretAccessor on this secret only);
#   - as a copy: refreshConsumers writes the payload into a secret scope after each rotation and
#     restarts the continuous job that reads it; retirement of the old password waits for both.
#
#   terraform init && terraform plan     # values in terraform.tfvars
#
# Then add the refreshConsumers service account (output) to the workspace with WRITE on the scope
# and CAN_MANAGE_RUN on the job (docs/deploy.md, "Databricks setup").

module "gsm_rotator" {
  source = "../../modules/gsm-rotator"

  environment = "prod"
  project_id  = var.project_id
  region      = var.region

  function_source = {
    bucket = var.function_source_bucket
    object = var.function_source_object
  }

  managed_secrets = {
    "sales-db" = {
      engine       = "mysql"
      strategy     = "dual-password"
      admin_secret = "sales-db-admin"
      login        = "sales_app"
      # Cron schedule: the rotator sets each next_rotation_time (no surprise first date).
      schedule          = "0 2 * * 0"
      time_zone         = "Europe/Berlin"
      window            = "3h"
      grace_period      = "24h"
      max_grace_period  = "3d"
      cloudsql_instance = "${var.project_id}:${var.region}:sales"
      readers           = var.databricks_cluster_service_accounts
      consumers = jsonencode({
        workspace = { host = var.databricks_workspace_url, auth = { type = "google-id" } }
        targets = [
          { kind = "secret-scope", scope = "sales", key = "db-credential" },
          { kind = "job", jobId = var.databricks_job_id, mode = "continuous" },
        ]
      })
    }
  }

  admin_secrets = {
    "sales-db-admin" = {}
  }

  # The only workspace a consumers config may name.
  databricks_hosts = [var.databricks_workspace_url]
}
