# Topics, dead letters and the grants Google's own agents need on them. The function trigger
# subscriptions are in functions.tf, next to the functions they push to.

resource "google_pubsub_topic" "event" {
  for_each = local.topic_names

  project = var.project_id
  name    = each.value
  labels  = merge(var.labels, { rotator-env = var.environment })

  depends_on = [google_project_service.enabled]
}

# One dead-letter topic per trigger: an event that failed max_delivery_attempts times lands here
# instead of being dropped after the retention period.
resource "google_pubsub_topic" "dead_letter" {
  for_each = local.functions

  project = var.project_id
  name    = "${each.value.name}-dead-letter"
  labels  = merge(var.labels, { rotator-env = var.environment })

  depends_on = [google_project_service.enabled]
}

# A topic keeps no message that no subscription holds: this pull subscription keeps the dead
# letters for inspection and replay (docs/deploy.md), and an alert fires while it is not empty.
resource "google_pubsub_subscription" "dead_letter_hold" {
  for_each = local.functions

  project                    = var.project_id
  name                       = "${each.value.name}-dead-letter-hold"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  labels                     = merge(var.labels, { rotator-env = var.environment })
  ack_deadline_seconds       = 60
  message_retention_duration = "${var.event_retention_seconds}s"

  # Subscriptions expire after 31 idle days by default; a dead-letter subscription is idle by design.
  expiration_policy {
    ttl = ""
  }
}

# Secret Manager publishes the secrets' notifications (SECRET_ROTATE and the others) as its service
# agent. Creating a secret whose topic it cannot publish to fails, hence the depends_on in secrets.tf.
resource "google_pubsub_topic_iam_member" "secret_manager_agent_publishes_secret_events" {
  project = var.project_id
  topic   = google_pubsub_topic.event["secret_events"].name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_project_service_identity.secret_manager.email}"
}

# Dead-lettering is done by the Pub/Sub service agent: it must publish to each dead-letter topic and
# be a subscriber of each source subscription.
resource "google_pubsub_topic_iam_member" "pubsub_agent_publishes_dead_letters" {
  for_each = local.functions

  project = var.project_id
  topic   = google_pubsub_topic.dead_letter[each.key].name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_project_service_identity.pubsub.email}"
}

resource "google_pubsub_subscription_iam_member" "pubsub_agent_acks_triggers" {
  for_each = local.functions

  project      = var.project_id
  subscription = google_pubsub_subscription.trigger[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${google_project_service_identity.pubsub.email}"
}
