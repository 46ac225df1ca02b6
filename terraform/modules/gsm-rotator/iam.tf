# Who may do what. Nothing here grants a Secret Manager role on the project to a function account:
# Secret Manager rights are granted per secret (test/unit/terraform checks it).

# ---------------------------------------------------------------------------------------------
# Secret Manager
# ---------------------------------------------------------------------------------------------

# One role per function, with exactly the permissions the calls its code can reach need
# (locals.tf): predefined roles either lack secrets.update (needed to move aliases and write the
# rotator.* state annotations: only admin/editor have it) or bring far more (create/delete
# secrets, setIamPolicy). refreshConsumers cannot add, disable or destroy a version;
# retireVersions cannot add one.
resource "google_project_iam_custom_role" "function_secrets" {
  for_each = local.function_secret_permissions

  project     = var.project_id
  role_id     = "gsmRotator_${var.environment}_${replace(each.key, "_", "")}"
  title       = "gsm-rotator ${var.environment}: ${each.key} on managed secrets"
  description = "Granted on each managed secret to the ${each.key} function only, never on the project."
  permissions = each.value
  stage       = "GA"
}

# Admin and Databricks credential secrets: metadata (rotator.serves, the current alias) and value.
resource "google_project_iam_custom_role" "supporting_secret_reader" {
  project     = var.project_id
  role_id     = "gsmRotatorSupportingReader_${var.environment}"
  title       = "gsm-rotator ${var.environment}: read an admin or Databricks credential secret"
  description = "secrets.get, versions.access and versions.list, granted on one admin or Databricks credential secret."
  permissions = local.supporting_secret_permissions
  stage       = "GA"
}

# ListSecrets is checked on the project and nowhere else (a secret-level grant cannot allow it, and
# IAM conditions on resource.name do not apply to list calls). retireVersions needs it to find the
# secrets labelled rotator=managed. The role holds that single permission: it reveals names, labels
# and annotations of the project's secrets, never a value and never a version.
resource "google_project_iam_custom_role" "secret_lister" {
  project     = var.project_id
  role_id     = "gsmRotatorSecretLister_${var.environment}"
  title       = "gsm-rotator ${var.environment}: list secrets"
  description = "secretmanager.secrets.list only: find the managed secrets by label. No access to values or versions."
  permissions = local.secret_lister_permissions
  stage       = "GA"
}

# All three functions work on every managed secret, each with its own role: rotateSecret rotates
# it, refreshConsumers reads the new version by number (secret-scope sync) and records its result
# on the Secret, retireVersions disables and destroys old versions.
resource "google_secret_manager_secret_iam_member" "function_rotates_managed_secret" {
  for_each = {
    for pair in setproduct(keys(var.managed_secrets), keys(local.functions)) :
    "${pair[0]}/${pair[1]}" => { secret = pair[0], function = pair[1] }
  }

  project   = var.project_id
  secret_id = google_secret_manager_secret.managed[each.value.secret].secret_id
  role      = google_project_iam_custom_role.function_secrets[each.value.function].name
  member    = "serviceAccount:${google_service_account.function[each.value.function].email}"
}

resource "google_project_iam_member" "retire_versions_lists_secrets" {
  project = var.project_id
  role    = google_project_iam_custom_role.secret_lister.name
  member  = "serviceAccount:${google_service_account.function["retire_versions"].email}"
}

# The admin credentials: read by the two functions that change passwords, by no one else.
resource "google_secret_manager_secret_iam_member" "function_reads_admin_secret" {
  for_each = {
    for pair in setproduct(keys(var.admin_secrets), ["rotate_secret", "retire_versions"]) :
    "${pair[0]}/${pair[1]}" => { secret = pair[0], function = pair[1] }
  }

  project   = var.project_id
  secret_id = google_secret_manager_secret.admin[each.value.secret].secret_id
  role      = google_project_iam_custom_role.supporting_secret_reader.name
  member    = "serviceAccount:${google_service_account.function[each.value.function].email}"
}

# Databricks fallback credentials: only refreshConsumers talks to Databricks.
resource "google_secret_manager_secret_iam_member" "refresh_consumers_reads_databricks_credential" {
  for_each = var.databricks_credential_secrets

  project   = var.project_id
  secret_id = google_secret_manager_secret.databricks_credential[each.key].secret_id
  role      = google_project_iam_custom_role.supporting_secret_reader.name
  member    = "serviceAccount:${google_service_account.function["refresh_consumers"].email}"
}

# Consumers that read the credential at run time (managed_secrets.*.readers: a Databricks job
# cluster's Google service account, a workload identity): the value of that one secret, nothing
# else. secretAccessor also reads `latest` and the aliases, which is what a consumer reads.
locals {
  reader_grants = merge([
    for id, s in var.managed_secrets : { for m in s.readers : "${id}/${m}" => { secret = id, member = m } }
  ]...)
}

resource "google_secret_manager_secret_iam_member" "reader_accesses_managed_secret" {
  for_each = local.reader_grants

  project   = var.project_id
  secret_id = google_secret_manager_secret.managed[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = each.value.member
}

# Databricks, keyless: refreshConsumers mints a Google ID token for itself (no grant needed) or,
# when a workspace says impersonate, for one of these accounts (token creator on that account only).
resource "google_service_account_iam_member" "refresh_consumers_impersonates_for_databricks" {
  for_each = var.databricks_impersonate_service_accounts

  # The account's project is in its email: NAME@PROJECT.iam.gserviceaccount.com.
  service_account_id = "projects/${trimsuffix(split("@", each.value)[1], ".iam.gserviceaccount.com")}/serviceAccounts/${each.value}"
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_service_account.function["refresh_consumers"].email}"
}

# ---------------------------------------------------------------------------------------------
# Pub/Sub: each function publishes only where it must
# ---------------------------------------------------------------------------------------------

# rotateSecret announces outcomes. refreshConsumers and retireVersions publish nothing.
resource "google_pubsub_topic_iam_member" "rotate_secret_publishes_rotation_events" {
  project = var.project_id
  topic   = google_pubsub_topic.event["rotation_events"].name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.function["rotate_secret"].email}"
}

# ---------------------------------------------------------------------------------------------
# Invocation: Pub/Sub push → function
# ---------------------------------------------------------------------------------------------

resource "google_cloud_run_service_iam_member" "invoker_runs_function" {
  for_each = local.functions

  project  = var.project_id
  location = var.region
  # A gen2 function runs as the Cloud Run service of the same name.
  service = google_cloudfunctions2_function.function[each.key].name
  role    = "roles/run.invoker"
  member  = "serviceAccount:${google_service_account.invoker.email}"
}

# Pub/Sub mints the push OIDC tokens as its service agent, acting as the invoker account. Granted on
# that one account, not on the project.
resource "google_service_account_iam_member" "pubsub_agent_signs_as_invoker" {
  service_account_id = google_service_account.invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_project_service_identity.pubsub.email}"
}

# ---------------------------------------------------------------------------------------------
# Cloud SQL: connect through the Cloud SQL connector, to the named instances only
# ---------------------------------------------------------------------------------------------

# Cloud SQL has no instance-level IAM policy: the grant is on the instance's project, narrowed to
# the instance by an IAM condition.
resource "google_project_iam_member" "function_connects_cloudsql" {
  for_each = {
    for pair in setproduct(keys(local.cloudsql_instances), ["rotate_secret", "retire_versions"]) :
    "${pair[0]}/${pair[1]}" => { instance = pair[0], function = pair[1] }
  }

  project = local.cloudsql_instances[each.value.instance].project
  role    = "roles/cloudsql.client"
  member  = "serviceAccount:${google_service_account.function[each.value.function].email}"

  condition {
    title       = "only ${local.cloudsql_instances[each.value.instance].instance}"
    description = "gsm-rotator ${var.environment} may connect to this instance only."
    expression  = "resource.type == \"sqladmin.googleapis.com/Instance\" && resource.name == \"projects/${local.cloudsql_instances[each.value.instance].project}/instances/${local.cloudsql_instances[each.value.instance].instance}\""
  }
}

# ---------------------------------------------------------------------------------------------
# Operators (the gsm-rotator CLI)
# ---------------------------------------------------------------------------------------------

resource "google_pubsub_topic_iam_member" "operator_publishes_rotation_requests" {
  for_each = toset(var.operator_members)

  project = var.project_id
  topic   = google_pubsub_topic.event["secret_events"].name
  role    = "roles/pubsub.publisher"
  member  = each.value
}

resource "google_project_iam_member" "operator_lists_secrets" {
  for_each = toset(var.operator_members)

  project = var.project_id
  role    = google_project_iam_custom_role.secret_lister.name
  member  = each.value
}

# `gsm-rotator pause` / `resume` write the rotator.pause annotation: secrets.update, on the managed
# secrets only. It is the one write an operator gets; it also lets them change the secret's other
# annotations, which makes them managed-secret owners in the trust model (docs/operations.md):
# they still cannot widen what an admin secret serves, which only its owners (terraform) write.
resource "google_project_iam_custom_role" "operator_secret_writer" {
  project     = var.project_id
  role_id     = "gsmRotatorOperator_${var.environment}"
  title       = "gsm-rotator ${var.environment}: pause and resume a managed secret"
  description = "secretmanager.secrets.update only, granted on each managed secret to operator_members (gsm-rotator pause/resume)."
  permissions = ["secretmanager.secrets.update"]
  stage       = "GA"
}

resource "google_secret_manager_secret_iam_member" "operator_pauses_managed_secret" {
  for_each = {
    for pair in setproduct(keys(var.managed_secrets), var.operator_members) :
    "${pair[0]}/${pair[1]}" => { secret = pair[0], member = pair[1] }
  }

  project   = var.project_id
  secret_id = google_secret_manager_secret.managed[each.value.secret].secret_id
  role      = google_project_iam_custom_role.operator_secret_writer.name
  member    = each.value.member
}

# Metadata, versions and states of the managed secrets; never a value (viewer has no access).
resource "google_secret_manager_secret_iam_member" "operator_views_managed_secret" {
  for_each = {
    for pair in setproduct(keys(var.managed_secrets), var.operator_members) :
    "${pair[0]}/${pair[1]}" => { secret = pair[0], member = pair[1] }
  }

  project   = var.project_id
  secret_id = google_secret_manager_secret.managed[each.value.secret].secret_id
  role      = "roles/secretmanager.viewer"
  member    = each.value.member
}
