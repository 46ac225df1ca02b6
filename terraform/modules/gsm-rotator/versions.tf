terraform {
  # 1.5 for check blocks and lifecycle preconditions that compare variables with each other.
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
    # Only for google_project_service_identity (the Secret Manager and Pub/Sub service agents),
    # which exists in the beta provider alone.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = ">= 6.0, < 8.0"
    }
  }
}
