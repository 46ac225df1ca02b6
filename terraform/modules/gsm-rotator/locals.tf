locals {
  prefix           = "gsm-rotator-${var.environment}"
  sa_prefix        = "gsmr-${var.environment}"
  scheduler_region = coalesce(var.scheduler_region, var.region)

  # The three topics of the pipeline. The CLI publishes on-demand rotation requests to secret-events;
  # the managed secrets notify it too (SECRET_ROTATE and every other change).
  topic_names = {
    secret_events   = "${local.prefix}-secret-events"
    rotation_events = "${local.prefix}-rotation-events"
    retire_tick     = "${local.prefix}-retire-tick"
  }

  # One entry per function: its entry point in build/functions/index.js, the topic that triggers it,
  # its own runtime service account, and whether it talks to the databases (VPC egress, Cloud SQL).
  # Which topics each function may publish to is not here on purpose: those grants are written out
  # one by one in iam.tf, where a reviewer (and test/unit/terraform) can see each of them.
  functions = {
    rotate_secret = {
      name           = "${local.prefix}-rotate-secret"
      entry_point    = "rotateSecret"
      account_id     = "${local.sa_prefix}-rotate"
      trigger_topic  = "secret_events"
      needs_database = true
      settings       = var.functions.rotate_secret
      description    = "Rotates a managed secret on SECRET_ROTATE or an on-demand request; announces the outcome on rotation-events."
    }
    refresh_consumers = {
      name           = "${local.prefix}-refresh-consumers"
      entry_point    = "refreshConsumers"
      account_id     = "${local.sa_prefix}-refresh"
      trigger_topic  = "rotation_events"
      needs_database = false
      settings       = var.functions.refresh_consumers
      description    = "Makes the Databricks consumers of a rotated secret pick up the new credential; records which confirmed."
    }
    retire_versions = {
      name           = "${local.prefix}-retire-versions"
      entry_point    = "retireVersions"
      account_id     = "${local.sa_prefix}-retire"
      trigger_topic  = "retire_tick"
      needs_database = true
      settings       = var.functions.retire_versions
      description    = "On each tick: retires previous credentials after their grace window, destroys versions beyond retention, reports overdue rotations."
    }
  }

  # The Secret Manager permissions of the rotator's custom role: exactly what the code's Secret
  # Manager client calls need (test/unit/terraform/policy.test.ts compares this list with the
  # method names it finds in shared/, functions/ and cli/). secrets.list is not here: it only exists
  # at project level and gets its own one-permission role (see iam.tf).
  rotator_secret_permissions = [
    "secretmanager.secrets.get",
    "secretmanager.secrets.update",
    "secretmanager.versions.access",
    "secretmanager.versions.add",
    "secretmanager.versions.destroy",
    "secretmanager.versions.disable",
    "secretmanager.versions.enable",
    "secretmanager.versions.list",
  ]
  secret_lister_permissions = ["secretmanager.secrets.list"]

  # The environment the functions read (documented in docs/deploy.md). ROTATION_EVENTS_TOPIC is
  # the full topic name. NODE_ENV=production keeps functions-framework from echoing error messages
  # in HTTP responses.
  function_environment = {
    GCP_PROJECT            = var.project_id
    ROTATION_EVENTS_TOPIC  = google_pubsub_topic.event["rotation_events"].id
    LOG_LEVEL              = var.log_level
    ROTATOR_LEASE_SECONDS  = tostring(var.rotator_lease_seconds)
    ROTATOR_MAX_ATTEMPTS   = tostring(var.rotator_max_attempts)
    ROTATOR_DB_CONCURRENCY = tostring(var.rotator_db_concurrency)
    ROTATOR_OVERDUE_MARGIN = var.overdue_margin
    ROTATOR_LOCATIONS      = join(",", var.regional_secret_locations)
    NODE_ENV               = "production"
  }

  # The rotator.* configuration annotations of each managed secret; keys whose value is not set are
  # left out, so the rotator applies its own defaults. The rotator writes other rotator.* keys
  # (state, history, refresh) itself; see secrets.tf for how Terraform leaves those alone.
  managed_secret_annotations = {
    for id, s in var.managed_secrets : id => {
      for k, v in {
        "rotator.engine"             = s.engine
        "rotator.strategy"           = s.strategy
        "rotator.admin-secret"       = s.admin_secret == "self" ? "self" : "projects/${var.project_id}/secrets/${s.admin_secret}"
        "rotator.login-pair"         = s.login_pair
        "rotator.grace-period"       = s.grace_period
        "rotator.max-grace-period"   = s.max_grace_period
        "rotator.test-query"         = s.test_query
        "rotator.password-length"    = s.password_length == null ? null : tostring(s.password_length)
        "rotator.password-exclude"   = s.password_exclude
        "rotator.retention-versions" = s.retention_versions == null ? null : tostring(s.retention_versions)
        "rotator.retention-days"     = s.retention_days == null ? null : tostring(s.retention_days)
        "rotator.max-attempts"       = s.max_attempts == null ? null : tostring(s.max_attempts)
        "rotator.consumers"          = s.consumers == null ? null : jsonencode(jsondecode(s.consumers))
        "rotator.schedule"           = s.schedule
        "rotator.time-zone"          = s.time_zone
        "rotator.window"             = s.window
      } : k => v if v != null
    }
  }

  # The first next_rotation_time of each secret. With a period and no explicit time: spread over the
  # period by a hash of the secret ID (one shared time would make a fleet rotate, and write Secret
  # Manager, in the same minutes; gcp-facts: 120 writes/min per secret, 600/min per project). With a
  # schedule: a year ahead, a placeholder the first retire tick replaces with the next cron time.
  # Both are evaluated at create time only: Terraform ignores later changes of next_rotation_time.
  managed_secret_first_rotation = {
    for id, s in var.managed_secrets : id => (
      s.schedule != null ? timeadd(timestamp(), "8760h") :
      s.next_rotation_time != null ? s.next_rotation_time :
      timeadd(timestamp(), "${3600 + parseint(substr(sha256(id), 0, 8), 16) % s.rotation_period_seconds}s")
    )
  }

  # Cloud SQL instances named by managed secrets, split into the parts an IAM condition needs.
  # A domain-scoped project (example.com:project) keeps its colon.
  cloudsql_instances = {
    for conn in distinct([for s in values(var.managed_secrets) : s.cloudsql_instance if s.cloudsql_instance != null]) : conn => {
      project  = join(":", slice(split(":", conn), 0, length(split(":", conn)) - 2))
      instance = element(split(":", conn), length(split(":", conn)) - 1)
    }
  }

  # APIs the module uses. Eventarc is not among them: the triggers are plain Pub/Sub push
  # subscriptions (see functions.tf).
  apis = concat(
    [
      "artifactregistry.googleapis.com",
      "cloudbuild.googleapis.com",
      "cloudfunctions.googleapis.com",
      "cloudresourcemanager.googleapis.com",
      "cloudscheduler.googleapis.com",
      "iam.googleapis.com",
      "logging.googleapis.com",
      "monitoring.googleapis.com",
      "pubsub.googleapis.com",
      "run.googleapis.com",
      "secretmanager.googleapis.com",
      "storage.googleapis.com",
    ],
    length(local.cloudsql_instances) > 0 ? ["sqladmin.googleapis.com"] : [],
    var.vpc_connector != null ? ["vpcaccess.googleapis.com"] : [],
  )

  # Log filters. Gen2 functions log as Cloud Run revisions named after the function.
  functions_log_filter = join(" ", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=(${join(" OR ", [for f in values(local.functions) : "\"${f.name}\""])})",
  ])
  rotation_lines_filter = "${local.functions_log_filter} (labels.rotation_id:* OR jsonPayload.event:*)"
}
