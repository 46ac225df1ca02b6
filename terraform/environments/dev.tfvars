# The dev environment. EXAMPLE values: replace them with your projects and databases.
# function_source_object is passed by cloudbuild.yaml (-var function_source_object=gsm-rotator/BUILD_ID.zip).
environment            = "dev"
project_id             = "example-rotator-dev"
region                 = "europe-west1"
function_source_bucket = "example-rotator-artifacts"

functions          = { rotate_secret = { max_instances = 2 } }
log_level          = "DEBUG"
retire_schedule    = "*/15 * * * *"
log_retention_days = 90

databricks_hosts = ["https://example-dev.gcp.databricks.com"]

# The secrets are created empty: add each one's first version (the credential JSON) yourself
# (docs/deploy.md). Rotation every day, to find problems where they are cheap. No
# next_rotation_time: the module spreads each secret's first rotation over its period (here: within
# a day of the first apply), and the fleet does not rotate in the same minutes.
managed_secrets = {
  "orders-db-app" = {
    engine       = "postgres"
    strategy     = "alternating-users"
    admin_secret = "orders-db-admin"
    # The login in the credential JSON; orders-db-admin serves it and orders_app_clone.
    login                   = "orders_app"
    rotation_period_seconds = 86400
    grace_period            = "1h"
    max_grace_period        = "6h"
    test_query              = "SELECT 1"
    retention_versions      = 5
    # The job cluster's Google service account reads the credential at run time
    # (docs/databricks.md, "Consumers"): secretAccessor on this secret only.
    readers = ["serviceAccount:orders-etl@example-rotator-dev.iam.gserviceaccount.com"]
    consumers = {
      # refreshConsumers signs in with a Google ID token of its own service account.
      workspace = { host = "https://example-dev.gcp.databricks.com", auth = { type = "google-id" } }
      targets = [
        # Jobs that read dbutils.secrets.get("orders", "db-credential") get the new JSON.
        { kind = "secret-scope", scope = "orders", key = "db-credential" },
        # A continuous job: its active run is cancelled and Databricks restarts it.
        { kind = "job", jobId = 123456789, mode = "continuous" },
      ]
    }
  }
}

admin_secrets = {
  "orders-db-admin" = {}
}
