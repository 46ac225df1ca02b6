# EXAMPLE values for prod: replace them. function_source_object is passed by cloudbuild.yaml
# (-var function_source_object=gsm-rotator/COMMIT_SHA.zip); set it here only for a manual apply.
project_id                  = "example-rotator-prod"
region                      = "europe-west1"
function_source_bucket      = "example-rotator-artifacts"
databricks_workspace_url    = "https://example-prod.gcp.databricks.com"
operator_members            = ["group:platform-oncall@example.com"]
alert_notification_channels = ["projects/example-rotator-prod/notificationChannels/1234567890"]
