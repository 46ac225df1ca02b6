# The staging environment. EXAMPLE values: replace them with your projects and databases.
# function_source_object is passed by cloudbuild.yaml (-var function_source_object=gsm-rotator/BUILD_ID.zip).
environment            = "staging"
project_id             = "example-rotator-staging"
region                 = "europe-west1"
function_source_bucket = "example-rotator-artifacts"

functions          = { rotate_secret = { max_instances = 5 } }
log_level          = "INFO"
retire_schedule    = "*/15 * * * *"
log_retention_days = 180

databricks_hosts = ["https://example-staging.gcp.databricks.com"]

# The secrets are created empty: add each one's first version (the credential JSON) yourself
# (docs/deploy.md). Rotation weekly, by a cron schedule in quiet hours (Sundays 02:00-05:00 Berlin
# time); the rotator sets each next_rotation_time (docs/operations.md, "Schedules, windows and pause").
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
    # The job cluster's Google service account reads the credential at run time
    # (docs/databricks.md, "Consumers"): secretAccessor on this secret only.
    readers = ["serviceAccount:orders-etl@example-rotator-staging.iam.gserviceaccount.com"]
    consumers = {
      # refreshConsumers signs in with a Google ID token of its own service account.
      workspace = { host = "https://example-staging.gcp.databricks.com", auth = { type = "google-id" } }
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
