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

  # Least privilege per function: the Secret Manager permissions each function's custom role grants
  # on the managed secrets, exactly what the calls its entry point can reach need
  # (test/unit/terraform/policy.test.ts follows each entry point through the code and compares).
  # secrets.list is not here: it only exists at project level and gets its own role (iam.tf).
  function_secret_permissions = {
    # Claims, adds the new version, moves aliases, disables a failed pending version.
    rotate_secret = [
      "secretmanager.secrets.get",
      "secretmanager.secrets.update",
      "secretmanager.versions.access",
      "secretmanager.versions.add",
      "secretmanager.versions.disable",
      "secretmanager.versions.list",
    ]
    # Reads the new version by number (secret-scope sync) and records its result on the Secret;
    # lists versions to find a credential secret's newest enabled one when `latest` is disabled.
    refresh_consumers = [
      "secretmanager.secrets.get",
      "secretmanager.secrets.update",
      "secretmanager.versions.access",
      "secretmanager.versions.list",
    ]
    # Reads the retired and current versions, disables the retired one, destroys beyond retention.
    retire_versions = [
      "secretmanager.secrets.get",
      "secretmanager.secrets.update",
      "secretmanager.versions.access",
      "secretmanager.versions.destroy",
      "secretmanager.versions.disable",
      "secretmanager.versions.list",
    ]
  }
  # Admin secrets and Databricks credential secrets: their metadata (rotator.serves, the current
  # alias) and their value, nothing else. roles/secretmanager.secretAccessor lacks secrets.get.
  # get: the `current` alias and rotator.serves; list: the newest enabled version when `latest`
  # is disabled (shared/secrets/read-current.ts).
  supporting_secret_permissions = [
    "secretmanager.secrets.get",
    "secretmanager.versions.access",
    "secretmanager.versions.list",
  ]
  secret_lister_permissions = ["secretmanager.secrets.list"]
  # The staging secret(s) (staging.tf): rotateSecret stages and finds its orphans; retireVersions
  # proves whose a staged copy is and destroys it. refreshConsumers gets nothing.
  staging_rotate_permissions = [
    "secretmanager.versions.access",
    "secretmanager.versions.add",
    "secretmanager.versions.list",
  ]
  staging_retire_permissions = [
    "secretmanager.versions.access",
    "secretmanager.versions.destroy",
  ]

  # Secret Manager names secrets by project number (projects/123/secrets/S) in what it returns, and
  # the rotator compares those names: the deployment's scope and rotator.serves use numbers.
  project_number = data.google_project.this.number

  # ROTATOR_PROJECTS: the own project by number (GCP_PROJECT gives its id), the extra secret
  # projects by id and by number.
  rotator_projects = concat(
    [local.project_number],
    sort(tolist(var.secret_projects)),
    [for p in sort(tolist(var.secret_projects)) : data.google_project.secret_project[p].number],
  )

  # rotator.serves of each admin secret: every managed secret that names it, with every login its
  # rotations change (the pair with alternating-users). Written by terraform on the admin secret,
  # which only its owners can change; the rotator refuses any other secret or login.
  admin_secret_serves = {
    for admin in keys(var.admin_secrets) : admin => {
      for id, s in var.managed_secrets : "projects/${local.project_number}/secrets/${id}" => (
        s.login_pair != null ? split(",", s.login_pair) : (
          s.strategy == "alternating-users" ? [s.login, "${s.login}_clone"] : [s.login]
        )
      ) if s.admin_secret == admin
    }
  }

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
    # The trust model (docs/operations.md): which projects' secrets, which Databricks workspaces
    # and credential secrets the functions may use; nothing a managed secret says can widen them.
    ROTATOR_PROJECTS                      = join(",", local.rotator_projects)
    ROTATOR_DATABRICKS_HOSTS              = join(",", sort(tolist(var.databricks_hosts)))
    ROTATOR_DATABRICKS_CREDENTIAL_SECRETS = join(",", sort(tolist(var.databricks_credential_secrets)))
    # Where pending credentials wait until verified (staging.tf); full names, shards in order.
    ROTATOR_STAGING_SECRET = join(",", google_secret_manager_secret.staging[*].id)
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
