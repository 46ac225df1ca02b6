# One Cloud Monitoring dashboard per environment: rotations by outcome, alert-worthy failures by
# event, rotation durations (p50/p95), overdue secrets, and the ERROR lines themselves. Built
# from the log-based metrics in logging.tf, so it needs nothing the functions do not log already.

locals {
  dashboard_metric = { for k, m in {
    rotations = google_logging_metric.rotations.name
    alerts    = google_logging_metric.alert_events.name
    duration  = google_logging_metric.rotation_duration.name
    overdue   = google_logging_metric.overdue.name
  } : k => "metric.type=\"logging.googleapis.com/user/${m}\" resource.type=\"cloud_run_revision\"" }

  # A line chart of one metric per hour: aligned per series, then reduced across series (by the
  # listed labels). Every entry has the same shape, so terraform gives them one type.
  dashboard_series = {
    rotations = { title = "Rotations by outcome (per hour)", filter = local.dashboard_metric.rotations, reducer = "REDUCE_SUM", group = ["metric.label.outcome"] }
    failures  = { title = "Alert-worthy events by event (per hour)", filter = local.dashboard_metric.alerts, reducer = "REDUCE_SUM", group = ["metric.label.event"] }
    p50       = { title = "Rotation duration p50 (ms, claim to outcome)", filter = local.dashboard_metric.duration, reducer = "REDUCE_PERCENTILE_50", group = [] }
    p95       = { title = "Rotation duration p95 (ms, claim to outcome)", filter = local.dashboard_metric.duration, reducer = "REDUCE_PERCENTILE_95", group = [] }
    overdue   = { title = "Overdue secrets (reports per hour, by secret)", filter = local.dashboard_metric.overdue, reducer = "REDUCE_SUM", group = ["metric.label.secret"] }
  }

  dashboard_chart = { for k, s in local.dashboard_series : k => {
    title = s.title
    xyChart = {
      dataSets = [{
        plotType = "LINE"
        timeSeriesQuery = {
          timeSeriesFilter = {
            filter = s.filter
            aggregation = {
              alignmentPeriod    = "3600s"
              perSeriesAligner   = "ALIGN_DELTA"
              crossSeriesReducer = s.reducer
              groupByFields      = s.group
            }
          }
        }
      }]
      yAxis = { scale = "LINEAR" }
    }
  } }
}

resource "google_monitoring_dashboard" "rotator" {
  project = var.project_id
  dashboard_json = jsonencode({
    displayName = "gsm-rotator ${var.environment}"
    mosaicLayout = {
      columns = 48
      tiles = [
        { xPos = 0, yPos = 0, width = 24, height = 16, widget = local.dashboard_chart.rotations },
        { xPos = 24, yPos = 0, width = 24, height = 16, widget = local.dashboard_chart.failures },
        { xPos = 0, yPos = 16, width = 24, height = 16, widget = local.dashboard_chart.p50 },
        { xPos = 24, yPos = 16, width = 24, height = 16, widget = local.dashboard_chart.p95 },
        { xPos = 0, yPos = 32, width = 24, height = 16, widget = local.dashboard_chart.overdue },
        {
          xPos = 24, yPos = 32, width = 24, height = 16,
          widget = {
            title     = "ERROR lines of the functions"
            logsPanel = { filter = "${local.functions_log_filter} severity>=ERROR", resourceNames = ["projects/${var.project_id}"] }
          }
        },
      ]
    }
  })

  depends_on = [google_project_service.enabled]
}
