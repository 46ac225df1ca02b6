output "topics" {
  description = "Full names of the pipeline's topics. The CLI publishes on-demand rotation requests to secret_events."
  value       = { for k, t in google_pubsub_topic.event : k => t.id }
}

output "dead_letter_subscriptions" {
  description = "Pull subscriptions holding each trigger's dead letters, by function."
  value       = { for k, s in google_pubsub_subscription.dead_letter_hold : k => s.id }
}

output "functions" {
  description = "The deployed functions, by key: name, entry point, Cloud Run URI and runtime service account."
  value = {
    for k, f in google_cloudfunctions2_function.function : k => {
      name            = f.name
      entry_point     = local.functions[k].entry_point
      uri             = f.service_config[0].uri
      service_account = google_service_account.function[k].email
    }
  }
}

output "invoker_service_account" {
  description = "The account Pub/Sub pushes events with (run.invoker on the functions)."
  value       = google_service_account.invoker.email
}

output "refresh_consumers_service_account" {
  description = "Add this service account to each Databricks workspace as a principal (docs/deploy.md, \"Databricks\")."
  value       = google_service_account.function["refresh_consumers"].email
}

output "managed_secrets" {
  description = "Full names of the managed secrets. Add each one's first version (the credential JSON) out of band."
  value       = { for k, s in google_secret_manager_secret.managed : k => s.id }
}

output "admin_secrets" {
  description = "Full names of the admin-credential secrets. Add each one's value out of band."
  value       = { for k, s in google_secret_manager_secret.admin : k => s.id }
}

output "custom_roles" {
  description = "The custom roles: one per function (granted per managed secret), supporting_secret_reader (admin and Databricks credential secrets), secret_lister (secrets.list on the project) and operator_secret_writer (secrets.update on the managed secrets, for pause/resume)."
  value = {
    functions                = { for k, r in google_project_iam_custom_role.function_secrets : k => r.name }
    supporting_secret_reader = google_project_iam_custom_role.supporting_secret_reader.name
    secret_lister            = google_project_iam_custom_role.secret_lister.name
    operator_secret_writer   = google_project_iam_custom_role.operator_secret_writer.name
  }
}

output "log_bucket" {
  description = "Log bucket with the rotation history (select it in Logs Explorer: Refine scope > Log view)."
  value       = google_logging_project_bucket_config.rotation_history.id
}

output "log_metrics" {
  description = "Log-based metrics (names of logging.googleapis.com/user/NAME): rotations by outcome, overdue secrets, alert-worthy events by event, rotation duration."
  value = {
    rotations         = google_logging_metric.rotations.name
    overdue           = google_logging_metric.overdue.name
    alert_events      = google_logging_metric.alert_events.name
    rotation_duration = google_logging_metric.rotation_duration.name
  }
}

output "dashboard" {
  description = "The Cloud Monitoring dashboard of this environment (rotations, failures, durations, overdue secrets, ERROR lines)."
  value       = google_monitoring_dashboard.rotator.id
}

output "reader_grants" {
  description = "Who may read which managed secret's value (managed_secrets.*.readers): one entry per grant of roles/secretmanager.secretAccessor, with the secret's full name."
  value = [
    for k, g in google_secret_manager_secret_iam_member.reader_accesses_managed_secret : {
      secret = google_secret_manager_secret.managed[local.reader_grants[k].secret].id
      member = g.member
      role   = g.role
    }
  ]
}

output "retire_tick_job" {
  description = "The Cloud Scheduler job that publishes the retire tick (gcloud scheduler jobs run … to tick now)."
  value       = google_cloud_scheduler_job.retire_tick.id
}
