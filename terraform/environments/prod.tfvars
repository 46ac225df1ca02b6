# The prod environment. EXAMPLE values: replace them with your projects and databases.
# function_source_object is passed by cloudbuild.yaml (-var function_source_object=gsm-rotator/BUILD_ID.zip).
environment            = "prod"
project_id             = "example-rotator-prod"
region                 = "europe-west1"
function_source_bucket = "example-rotator-artifacts"

functions          = { rotate_secret = { max_instances = 10 } }
log_level          = "INFO"
retire_schedule    = "*/10 * * * *"
log_retention_days = 400

operator_members            = ["group:platform-oncall@example.com"]
alert_notification_channels = ["projects/example-rotator-prod/notificationChannels/1234567890"]

databricks_hosts = ["https://example-prod.gcp.databricks.com"]

# The secrets are created empty: add each one's first version (the credential JSON) yourself
# (docs/deploy.md). Rotation monthly, on the 1st at 03:00 Berlin time, starting by 05:00 at the
# latest (cron schedule and window; the rotator sets each next_rotation_time,
# docs/operations.md "Schedules, windows and pause").
managed_secrets = {
  "orders-db-app" = {
    engine       = "postgres"
    strategy     = "alternating-users"
    admin_secret = "orders-db-admin"
    # The login in the credential JSON; orders-db-admin serves it and orders_app_clone.
    login              = "orders_app"
    schedule           = "0 3 1 * *"
    time_zone          = "Europe/Berlin"
    window             = "2h"
    grace_period       = "24h"
    max_grace_period   = "3d"
    test_query         = "SELECT 1"
    retention_versions = 5
    # The job cluster's Google service account reads the credential at run time
    # (docs/databricks.md, "Consumers"): secretAccessor on this secret only.
    readers = ["serviceAccount:orders-etl@example-rotator-prod.iam.gserviceaccount.com"]
    consumers = {
      # refreshConsumers signs in with a Google ID token of its own service account.
      workspace = { host = "https://example-prod.gcp.databricks.com", auth = { type = "google-id" } }
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
