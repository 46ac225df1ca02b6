# The smallest useful deployment: one PostgreSQL credential rotated every 30 days with two
# alternating logins, its admin credential, and nothing else (no Databricks, no VPC connector).
#
#   terraform init && terraform plan     # values in terraform.tfvars
#
# After apply, add the two credentials yourself (terraform never holds a password):
#   gcloud secrets versions add orders-db-admin --data-file=admin.json
#   gcloud secrets versions add orders-db --data-file=orders.json
# The first rotation comes within 30 days plus an hour of the apply (the module spreads first
# rotations over the period); `gsm-rotator rotate orders-db --wait` rotates at once.

module "gsm_rotator" {
  source = "../../modules/gsm-rotator"

  environment = "dev"
  project_id  = var.project_id
  region      = var.region

  function_source = {
    bucket = var.function_source_bucket
    object = var.function_source_object
  }

  managed_secrets = {
    "orders-db" = {
      engine       = "postgres"
      strategy     = "alternating-users"
      admin_secret = "orders-db-admin"
      # The login in the credential JSON: orders-db-admin may change it and orders_app_clone.
      login                   = "orders_app"
      rotation_period_seconds = 2592000 # 30 days
    }
  }

  admin_secrets = {
    "orders-db-admin" = {}
  }
}
