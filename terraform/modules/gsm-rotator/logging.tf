# Audit logs, rotation history, metrics and alerts.

# Data Access audit logs are off by default. With them on, every read of a secret's metadata
# (ADMIN_READ), every value access (DATA_READ) and data write is logged with the caller: who read
# the database password, and when. Admin Activity (add/disable/update) is always on. DATA_READ logs
# every consumer's AccessSecretVersion too, which costs log volume: that is the point.
resource "google_project_iam_audit_config" "secret_manager" {
  project = var.project_id
  service = "secretmanager.googleapis.com"

  audit_log_config {
    log_type = "ADMIN_READ"
  }
  audit_log_config {
    log_type = "DATA_READ"
  }
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}

# The _Default bucket keeps logs for 30 days; rotation history must outlive several rotation
# periods. The sink copies (it does not move) the functions' rotation lines here.
resource "google_logging_project_bucket_config" "rotation_history" {
  project        = var.project_id
  location       = var.log_bucket_location
  bucket_id      = "${local.prefix}-rotations"
  retention_days = var.log_retention_days
  description    = "gsm-rotator ${var.environment}: every line of every rotation, retirement and refresh (labels.rotation_id, jsonPayload.event)."

  depends_on = [google_project_service.enabled]
}

# A sink into a log bucket of the same project needs no grant for its writer identity.
resource "google_logging_project_sink" "rotation_history" {
  project                = var.project_id
  name                   = "${local.prefix}-rotations"
  description            = "Rotation lines of the gsm-rotator ${var.environment} functions to their long-retention bucket."
  destination            = "logging.googleapis.com/${google_logging_project_bucket_config.rotation_history.id}"
  filter                 = local.rotation_lines_filter
  unique_writer_identity = true
}

resource "google_logging_metric" "rotations" {
  project     = var.project_id
  name        = "gsm_rotator_${var.environment}_rotations"
  description = "Finished rotations (rotation.completed / rotation.failed lines), by outcome and secret."
  filter      = "${local.functions_log_filter} jsonPayload.event=(\"rotation.completed\" OR \"rotation.failed\")"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "gsm-rotator ${var.environment} rotations"

    labels {
      key         = "outcome"
      value_type  = "STRING"
      description = "jsonPayload.outcome of the line."
    }
    labels {
      key         = "event"
      value_type  = "STRING"
      description = "rotation.completed or rotation.failed."
    }
    labels {
      key         = "secret"
      value_type  = "STRING"
      description = "The secret (the line's secret label). Bounded by the number of managed secrets."
    }
  }

  label_extractors = {
    outcome = "EXTRACT(jsonPayload.outcome)"
    event   = "EXTRACT(jsonPayload.event)"
    secret  = "EXTRACT(labels.secret)"
  }
}

resource "google_logging_metric" "overdue" {
  project     = var.project_id
  name        = "gsm_rotator_${var.environment}_overdue"
  description = "Managed secrets reported overdue (rotation.overdue lines): the schedule said rotate and no rotation completed, or the secret is marked failed."
  filter      = "${local.functions_log_filter} jsonPayload.event=\"rotation.overdue\""

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "gsm-rotator ${var.environment} overdue secrets"

    labels {
      key         = "secret"
      value_type  = "STRING"
      description = "The overdue secret."
    }
  }

  label_extractors = {
    secret = "EXTRACT(labels.secret)"
  }
}

# The alert-worthy ERROR events: the one list, also in README.md ("Operations") and
# docs/operations.md ("Alerts"); test/unit/terraform/alerts.test.ts keeps the three and the code's
# log.error(...) events the same. Each alerts because somebody must act, and says why.
locals {
  alert_events = {
    "rotation.failed" = {
      severity = "ERROR"
      reason   = "A rotation gave up after its last attempt and the secret is marked failed: its credential is no longer rotated until someone fixes the cause."
      action   = "Logs Explorer: labels.secret=\"SECRET\" jsonPayload.event=\"rotation.failed\", then labels.rotation_id. Fix the cause, `gsm-rotator check SECRET`, then `gsm-rotator rotate SECRET --wait`."
    }
    "rotation.unresolved" = {
      severity = "ERROR"
      reason   = "A rotation failed while the database was unreachable: whether the database took the new password is unknown, and the pending version may be the only copy of it."
      action   = "Restore connectivity, then `gsm-rotator rotate SECRET --wait` (it resumes the rotation). Never disable or destroy the pending version by hand."
    }
    "rotation.overdue" = {
      severity = "WARNING"
      reason   = "A scheduled rotation did not happen (a notification that never arrived, a rotation that stalled, or a failed secret): the credential is older than its policy allows."
      action   = "`gsm-rotator status SECRET` shows why; `gsm-rotator rotate SECRET --wait` rotates it now."
    }
    "rotation.announce-failed" = {
      severity = "ERROR"
      reason   = "A rotation finished but its outcome never reached rotation-events: refreshConsumers was not told, so Databricks consumers keep the old value until refreshed, and retirement will revoke it under them."
      action   = "Check rotateSecret's publisher role on rotation-events; refresh the consumers by hand or re-run a rotation (its outcome is announced)."
    }
    "retire.failed" = {
      severity = "ERROR"
      reason   = "Retiring a secret's previous credential failed: if it persists, a credential that should be revoked stays valid and nobody is told."
      action   = "`gsm-rotator check SECRET` (admin login) and `gsm-rotator retire --dry-run SECRET`; the next tick retries."
    }
    "event.rejected" = {
      severity = "ERROR"
      reason   = "A rotation request or notification was acknowledged without acting on it (unknown or unmanaged secret, invalid config, wrong admin secret): the rotation someone expected did not happen."
      action   = "The message says which; `gsm-rotator check SECRET` shows every problem at once. Fix, then re-run."
    }
    "function.misconfigured" = {
      severity = "ERROR"
      reason   = "A function's own environment is invalid (a ROTATOR_* setting, no project): every event fails the same way until the deployment is fixed, and events pile up towards the dead-letter topic."
      action   = "The line names the variables (never their values); fix them in terraform and apply. Redelivered events are then processed; dead-lettered ones wait in the hold subscription."
    }
    "event.unexpected" = {
      severity = "ERROR"
      reason   = "An error outside the rotator's error family (a bug) ended a delivery; it is redelivered, but the same bug will most likely fail it again until the dead-letter topic takes it."
      action   = "Read the error and the stack in the function's stderr around the line; file it with the event id. Redeploy a fixed version or roll back the deploy."
    }
  }
}

# One counter for every alert-worthy ERROR (and the overdue report), by event and secret.
resource "google_logging_metric" "alert_events" {
  project     = var.project_id
  name        = "gsm_rotator_${var.environment}_alert_events"
  description = "Alert-worthy events of the gsm-rotator functions (local.alert_events), by event and secret."
  filter      = "${local.functions_log_filter} severity>=ERROR jsonPayload.event=(${join(" OR ", [for e in keys(local.alert_events) : "\"${e}\""])})"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "gsm-rotator ${var.environment} alert-worthy events"

    labels {
      key         = "event"
      value_type  = "STRING"
      description = "jsonPayload.event of the line."
    }
    labels {
      key         = "secret"
      value_type  = "STRING"
      description = "The secret (the line's secret label; empty for retire.failed, whose line names it in jsonPayload.secret)."
    }
  }

  label_extractors = {
    event  = "EXTRACT(jsonPayload.event)"
    secret = "EXTRACT(labels.secret)"
  }
}

# How long rotations take (rotation.completed durationMs: claim to outcome recorded, the one
# duration docs/operations.md defines), for the dashboard.
resource "google_logging_metric" "rotation_duration" {
  project         = var.project_id
  name            = "gsm_rotator_${var.environment}_rotation_duration"
  description     = "Duration of completed rotations in milliseconds (rotation.completed durationMs)."
  filter          = "${local.functions_log_filter} jsonPayload.event=\"rotation.completed\""
  value_extractor = "EXTRACT(jsonPayload.durationMs)"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "ms"
    display_name = "gsm-rotator ${var.environment} rotation duration"
  }

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 32
      growth_factor      = 1.5
      scale              = 10
    }
  }
}

# One policy per alert-worthy event, each with its reason and what to do.
resource "google_monitoring_alert_policy" "events" {
  for_each = local.alert_events

  project               = var.project_id
  display_name          = "gsm-rotator ${var.environment}: ${each.key}"
  combiner              = "OR"
  severity              = each.value.severity
  notification_channels = var.alert_notification_channels

  conditions {
    display_name = "${each.key} logged"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.alert_events.name}\" AND resource.type=\"cloud_run_revision\" AND metric.label.event=\"${each.key}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.secret"]
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "${each.value.reason}\n\nWhat to do: ${each.value.action} (docs/operations.md, \"ERROR ${each.key}\")."
  }
}

# The two policies before the list existed are now its entries: moved, not destroyed and recreated.
moved {
  from = google_monitoring_alert_policy.rotation_failed
  to   = google_monitoring_alert_policy.events["rotation.failed"]
}
moved {
  from = google_monitoring_alert_policy.rotation_overdue
  to   = google_monitoring_alert_policy.events["rotation.overdue"]
}

# Events that failed every delivery attempt wait in the dead-letter hold subscriptions.
resource "google_monitoring_alert_policy" "dead_letters" {
  project               = var.project_id
  display_name          = "gsm-rotator ${var.environment}: events dead-lettered"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = var.alert_notification_channels

  conditions {
    display_name = "dead-letter subscription not empty"
    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\" AND resource.label.subscription_id=one_of(${join(", ", [for s in google_pubsub_subscription.dead_letter_hold : "\"${s.name}\""])})"
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "300s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      A trigger event failed max_delivery_attempts times and was dead-lettered. Pull it from the
      `…-dead-letter-hold` subscription named in the incident to see its attributes, fix the cause,
      and republish it to the trigger topic (docs/deploy.md, "Dead letters").
    EOT
  }
}
