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

resource "google_monitoring_alert_policy" "rotation_failed" {
  project               = var.project_id
  display_name          = "gsm-rotator ${var.environment}: rotation failed"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = var.alert_notification_channels

  conditions {
    display_name = "rotation.failed logged"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.rotations.name}\" AND resource.type=\"cloud_run_revision\" AND metric.label.event=\"rotation.failed\""
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
    content   = <<-EOT
      A rotation of a managed secret failed after its last attempt. The current credential still
      works (current only ever points at a verified one), but the secret is marked failed.
      Find the story: Logs Explorer, `labels.secret="SECRET" jsonPayload.event="rotation.failed"`,
      then `labels.rotation_id="…"`. Fix the cause, then `gsm-rotator rotate SECRET` (docs/operations.md).
    EOT
  }
}

resource "google_monitoring_alert_policy" "rotation_overdue" {
  project               = var.project_id
  display_name          = "gsm-rotator ${var.environment}: rotation overdue"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = var.alert_notification_channels

  conditions {
    display_name = "rotation.overdue logged"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.overdue.name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "900s"
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
    content   = <<-EOT
      retireVersions found a managed secret that should have rotated and has not (a notification
      that never arrived, a rotation stuck or failed). `gsm-rotator status SECRET` shows its state;
      `gsm-rotator rotate SECRET` starts a rotation (docs/operations.md).
    EOT
  }
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
