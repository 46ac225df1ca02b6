# The numbers of the projects whose secrets the deployment covers: Secret Manager writes secret
# names with the project number, and the rotator compares names as Secret Manager returns them.
data "google_project" "this" {
  project_id = var.project_id
}

data "google_project" "secret_project" {
  for_each = var.secret_projects

  project_id = each.value
}
