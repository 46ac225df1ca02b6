# The three Cloud Functions (gen2) and the Pub/Sub subscriptions that trigger them.
#
# Why no event_trigger block: a gen2 function's event_trigger makes Eventarc create the Pub/Sub
# subscription itself (eventarc-REGION-…-sub-NNN). That subscription gets Eventarc's retry settings
# and NO dead-letter topic, and Terraform cannot set one on it: the function resource has no such
# argument, google_eventarc_trigger has none either, and the subscription's name is only known after
# apply, so it cannot be imported and managed. An event that keeps failing would be dropped silently
# after 24 hours. Instead, each function is deployed without a trigger (an HTTP service reachable
# only from inside Google, with IAM) and the module owns a push subscription per function, with:
#   - retry_policy: exponential backoff between redeliveries (what RETRY_POLICY_RETRY gives);
#   - dead_letter_policy: after max_delivery_attempts the event goes to the function's dead-letter
#     topic, kept by a hold subscription and alerted on (pubsub.tf, logging.tf);
#   - an OIDC token of a dedicated invoker service account, the only principal allowed to invoke;
#   - an ack deadline covering the function's timeout, and no 31-day idle expiry.
# Google documents this as the "direct Pub/Sub trigger" for Cloud Run functions.
#
# What the code sees: the push endpoint ends in /projects/P/topics/T, so functions-framework turns
# the raw push body into the same google.cloud.pubsub.topic.v1.messagePublished CloudEvent an
# Eventarc trigger delivers (event.id = messageId, event.time = publishTime, data.message =
# {data, attributes, messageId, publishTime}); only data.subscription and the snake_case duplicates
# are absent, which the handlers' non-strict schemas allow. Messages without data (Secret Manager's
# TOPIC_CONFIGURED test message) are not converted; the handlers log and acknowledge them.

resource "google_cloudfunctions2_function" "function" {
  for_each = local.functions

  project     = var.project_id
  location    = var.region
  name        = each.value.name
  description = each.value.description
  labels      = merge(var.labels, { rotator-env = var.environment })

  build_config {
    runtime         = var.function_runtime
    entry_point     = each.value.entry_point
    service_account = var.build_service_account
    # The archive carries the compiled build/ (tested in CI); the buildpack must not run the
    # package.json "build" script again (it would need the TypeScript sources and dev tools).
    environment_variables = {
      GOOGLE_NODE_RUN_SCRIPTS = ""
    }

    source {
      storage_source {
        bucket = var.function_source.bucket
        object = var.function_source.object
      }
    }
  }

  service_config {
    service_account_email = google_service_account.function[each.key].email
    timeout_seconds       = each.value.settings.timeout_seconds
    available_memory      = each.value.settings.memory
    min_instance_count    = 0
    max_instance_count    = each.value.settings.max_instances
    # One event per instance: the handlers hold database connections and leases per event.
    max_instance_request_concurrency = 1
    # Pub/Sub push from this project counts as internal traffic; nothing else needs to reach them.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    environment_variables          = local.function_environment

    vpc_connector                 = each.value.needs_database ? var.vpc_connector : null
    vpc_connector_egress_settings = each.value.needs_database && var.vpc_connector != null ? var.vpc_egress : null
  }

  lifecycle {
    precondition {
      condition     = each.key != "rotate_secret" || var.rotator_lease_seconds > each.value.settings.timeout_seconds
      error_message = "rotator_lease_seconds must exceed rotateSecret's timeout_seconds: a timed-out function keeps running, and its lease must not be taken over while it does."
    }
    precondition {
      condition     = var.max_delivery_attempts > var.rotator_max_attempts
      error_message = "max_delivery_attempts must exceed rotator_max_attempts, so that the rotator marks a secret failed (and alerts) before Pub/Sub dead-letters the event."
    }
  }

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_subscription" "trigger" {
  for_each = local.functions

  project = var.project_id
  name    = "${each.value.name}-trigger"
  topic   = google_pubsub_topic.event[each.value.trigger_topic].id
  labels  = merge(var.labels, { rotator-env = var.environment })

  # For push, the ack deadline is how long Pub/Sub waits for the function's answer: longer than the
  # function may run (600 s is Pub/Sub's maximum, 540 s the function's).
  ack_deadline_seconds       = min(600, each.value.settings.timeout_seconds + 60)
  message_retention_duration = "${var.event_retention_seconds}s"
  filter                     = each.key == "rotate_secret" ? var.secret_events_filter : ""

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.function[each.key].service_config[0].uri}/projects/${var.project_id}/topics/${google_pubsub_topic.event[each.value.trigger_topic].name}"

    oidc_token {
      service_account_email = google_service_account.invoker.email
      audience              = google_cloudfunctions2_function.function[each.key].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = "${var.retry_backoff.minimum_seconds}s"
    maximum_backoff = "${var.retry_backoff.maximum_seconds}s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.key].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  # A quiet environment may see no rotation event for more than 31 days.
  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_cloud_run_service_iam_member.invoker_runs_function,
    google_pubsub_topic_iam_member.pubsub_agent_publishes_dead_letters,
    google_service_account_iam_member.pubsub_agent_signs_as_invoker,
  ]
}
