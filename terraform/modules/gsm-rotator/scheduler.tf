# The retire tick. Cloud Scheduler publishes as its own service agent, whose predefined role
# already includes pubsub.topics.publish: no grant is needed here. retireVersions reads nothing
# from the message but its arrival; the body only says where it came from, for the logs.
resource "google_cloud_scheduler_job" "retire_tick" {
  project     = var.project_id
  region      = local.scheduler_region
  name        = "${local.prefix}-retire-tick"
  description = "Publishes a tick to ${local.topic_names.retire_tick}: retireVersions retires, destroys beyond retention and reports overdue rotations."
  schedule    = var.retire_schedule
  time_zone   = var.retire_time_zone

  pubsub_target {
    topic_name = google_pubsub_topic.event["retire_tick"].id
    data       = base64encode(jsonencode({ source = "cloud-scheduler", environment = var.environment }))
    attributes = {
      source = "cloud-scheduler"
    }
  }

  depends_on = [google_project_service.enabled]
}
