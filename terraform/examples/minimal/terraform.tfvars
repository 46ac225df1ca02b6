# EXAMPLE values: replace them.
project_id             = "example-rotator-dev"
region                 = "europe-west1"
function_source_bucket = "example-rotator-artifacts"
function_source_object = "gsm-rotator/0123abc.zip"
