# The staging secret(s): where rotateSecret keeps a pending credential from before the database
# learns it until a real login verified it (shared/rotation/staging.ts; docs/architecture.md,
# "Staging"). Only then does the credential become a version of the managed secret, so a managed
# secret's `latest` is always a credential that works.
#
# Deployment-wide (one per deployment, or a few shards chosen by a stable hash of the managed
# secret's name): onboarding a managed secret stays one gcloud command, with nothing extra per
# secret. Several shards spread the staging adds over Secret Manager's soft per-secret write rate
# (AddSecretVersion+UpdateSecret: 2/s, 120/min per global secret; gcp-facts); one shard carries
# about 120 rotations a minute, the whole project's write quota (600/min) at 5 writes a rotation.
#
# No labels the retire tick lists (it is not a managed secret), no topics (its version adds must
# not wake rotateSecret), no rotation schedule. Nobody but the two functions below gets any right
# on it: consumers never read it.
resource "google_secret_manager_secret" "staging" {
  count = var.staging_secret_shards

  project   = var.project_id
  secret_id = var.staging_secret_shards == 1 ? "${local.prefix}-staging" : "${local.prefix}-staging-${count.index}"
  labels    = merge(var.labels, { rotator-env = var.environment, rotator-role = "staging" })

  replication {
    auto {}
  }
}

# One role per function on the staging secret (locals.tf): rotateSecret stages (add), reads back
# by number (access) and finds a staged orphan after a crash (list, filtered to enabled versions
# since the rotation started). retireVersions destroys the staged copies of finished rotations; it
# reads each one first (access) to prove it belongs to the managed secret whose state lists it:
# that list is written by whoever can write the managed secret, so it alone must not decide what
# gets destroyed. It lists nothing. refreshConsumers and operators get nothing.
resource "google_project_iam_custom_role" "staging_rotate" {
  project     = var.project_id
  role_id     = "gsmRotatorStagingRotate_${var.environment}"
  title       = "gsm-rotator ${var.environment}: stage pending credentials"
  description = "versions.add, versions.access and versions.list on the staging secret, for rotateSecret only."
  permissions = local.staging_rotate_permissions
  stage       = "GA"
}

resource "google_project_iam_custom_role" "staging_retire" {
  project     = var.project_id
  role_id     = "gsmRotatorStagingRetire_${var.environment}"
  title       = "gsm-rotator ${var.environment}: destroy staged credentials"
  description = "versions.access and versions.destroy on the staging secret, for retireVersions only."
  permissions = local.staging_retire_permissions
  stage       = "GA"
}

resource "google_secret_manager_secret_iam_member" "rotate_secret_stages" {
  count = var.staging_secret_shards

  project   = var.project_id
  secret_id = google_secret_manager_secret.staging[count.index].secret_id
  role      = google_project_iam_custom_role.staging_rotate.name
  member    = "serviceAccount:${google_service_account.function["rotate_secret"].email}"
}

resource "google_secret_manager_secret_iam_member" "retire_versions_destroys_staged" {
  count = var.staging_secret_shards

  project   = var.project_id
  secret_id = google_secret_manager_secret.staging[count.index].secret_id
  role      = google_project_iam_custom_role.staging_retire.name
  member    = "serviceAccount:${google_service_account.function["retire_versions"].email}"
}
