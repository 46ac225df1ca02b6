resource "google_project_service" "enabled" {
  for_each = toset(local.apis)

  project = var.project_id
  service = each.value
  # Other workloads in the project may use the same APIs: destroying this module never turns them off.
  disable_on_destroy = false
}

# Service agents, created now rather than on first use, so that they can be granted roles below.
resource "google_project_service_identity" "secret_manager" {
  provider = google-beta

  project = var.project_id
  service = "secretmanager.googleapis.com"

  depends_on = [google_project_service.enabled]
}

resource "google_project_service_identity" "pubsub" {
  provider = google-beta

  project = var.project_id
  service = "pubsub.googleapis.com"

  depends_on = [google_project_service.enabled]
}
