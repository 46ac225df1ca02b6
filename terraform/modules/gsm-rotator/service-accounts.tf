# One runtime identity per function per environment: a compromise or a bug in one function gets
# only that function's rights. None of them has a key: the functions run as them (metadata server),
# and refreshConsumers proves itself to Databricks with a Google ID token of its own account.
resource "google_service_account" "function" {
  for_each = local.functions

  project      = var.project_id
  account_id   = each.value.account_id
  display_name = "gsm-rotator ${var.environment}: ${each.value.entry_point}"
  description  = each.value.description

  depends_on = [google_project_service.enabled]
}

# The identity Pub/Sub pushes events with (OIDC token). Its only right is run.invoker on the three
# functions; no one runs code as it.
resource "google_service_account" "invoker" {
  project      = var.project_id
  account_id   = "${local.sa_prefix}-invoker"
  display_name = "gsm-rotator ${var.environment}: Pub/Sub push invoker"
  description  = "Pub/Sub push subscriptions present this account's OIDC token to invoke the gsm-rotator functions."

  depends_on = [google_project_service.enabled]
}
