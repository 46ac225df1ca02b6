# EXAMPLE values: replace them.
project_id                          = "example-rotator-prod"
region                              = "europe-west1"
function_source_bucket              = "example-rotator-artifacts"
function_source_object              = "gsm-rotator/0123abc.zip"
databricks_workspace_url            = "https://1234567890123456.7.gcp.databricks.com"
databricks_job_id                   = 123456789
databricks_cluster_service_accounts = ["serviceAccount:sales-etl@example-rotator-prod.iam.gserviceaccount.com"]
