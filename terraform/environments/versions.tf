# Settings of the environments root: Terraform and provider versions, the state backend and the
# providers. main.tf holds the module call; each environment is a tfvars file and a backend file.

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = ">= 6.0, < 8.0"
    }
  }

  # State in a GCS bucket (versioned, in a project the deployers control), one prefix per
  # environment: ENV.gcs.tfbackend sets the prefix, the bucket is given at init, so that no file
  # names a project:
  #   terraform init -reconfigure -backend-config=dev.gcs.tfbackend -backend-config="bucket=YOUR_TF_STATE_BUCKET"
  # To try the configuration without remote state: terraform init -backend=false
  backend "gcs" {}
}

provider "google" {
  project = var.project_id
  region  = var.region
}

provider "google-beta" {
  project = var.project_id
  region  = var.region
}
