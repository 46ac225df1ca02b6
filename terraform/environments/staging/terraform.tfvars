# EXAMPLE values for staging: replace them. function_source_object is passed by cloudbuild.yaml
# (-var function_source_object=gsm-rotator/COMMIT_SHA.zip); set it here only for a manual apply.
project_id               = "example-rotator-staging"
region                   = "europe-west1"
function_source_bucket   = "example-rotator-artifacts"
databricks_workspace_url = "https://example-staging.gcp.databricks.com"
