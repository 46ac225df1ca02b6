# Inputs of the gsm-rotator module. One instantiation = one environment (dev, staging, prod), each
# in its own project: retireVersions finds its secrets by the label rotator=managed across the whole
# project, and the Secret Manager audit config is set per project, so environments must not share one.

# ---------------------------------------------------------------------------------------------
# Where
# ---------------------------------------------------------------------------------------------

variable "environment" {
  description = "Environment name (dev, staging, prod, …). Part of every resource name: lowercase letters and digits, 2–12 characters, starting with a letter."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.environment))
    error_message = "environment must be 2-12 lowercase letters/digits, starting with a letter (it becomes part of service account ids, which are at most 30 characters)."
  }
}

variable "project_id" {
  description = "Project that holds the functions, topics, managed secrets and logs of this environment."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project ID (6-30 characters: lowercase letters, digits, hyphens), not a project number or name."
  }
}

variable "region" {
  description = "Region of the functions (and of the Cloud Scheduler job unless scheduler_region is set), e.g. europe-west1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must look like europe-west1 or us-central1."
  }
}

variable "scheduler_region" {
  description = "Region of the Cloud Scheduler job, when Cloud Scheduler is not available in var.region. null = var.region."
  type        = string
  default     = null

  validation {
    condition     = var.scheduler_region == null || can(regex("^[a-z]+-[a-z]+[0-9]+$", var.scheduler_region))
    error_message = "scheduler_region must look like europe-west1, or be null."
  }
}

variable "labels" {
  description = "Labels added to every labellable resource (functions, topics, subscriptions, secrets)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))])
    error_message = "labels: keys start with a lowercase letter, keys and values use lowercase letters, digits, '_' and '-', at most 63 characters."
  }

  validation {
    condition     = !contains(keys(var.labels), "rotator")
    error_message = "labels must not set 'rotator': the module sets rotator=managed on managed secrets only (retireVersions filters on it)."
  }
}

# ---------------------------------------------------------------------------------------------
# The functions
# ---------------------------------------------------------------------------------------------

variable "function_source" {
  description = "The built source archive in Cloud Storage: a zip of package.json, package-lock.json and build/ (see docs/deploy.md). Use a new object name per build (e.g. the commit SHA): Cloud Functions redeploys only when bucket/object change."
  type = object({
    bucket = string
    object = string
  })

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$", var.function_source.bucket)) && endswith(var.function_source.object, ".zip")
    error_message = "function_source.bucket must be a bucket name (no gs:// prefix) and function_source.object a .zip object name."
  }
}

variable "build_service_account" {
  description = "Service account Cloud Build uses to build the functions, as projects/PROJECT/serviceAccounts/EMAIL. null = the project's default build service account (which newer projects restrict; see docs/deploy.md)."
  type        = string
  default     = null

  validation {
    condition     = var.build_service_account == null || can(regex("^projects/[^/]+/serviceAccounts/[^/]+@[^/]+$", var.build_service_account))
    error_message = "build_service_account must be projects/PROJECT/serviceAccounts/EMAIL, or null."
  }
}

variable "function_runtime" {
  description = "Cloud Functions runtime ID. Google's schedule (cloud.google.com/functions/docs/runtime-support): nodejs20 deprecated 2026-04-30 and decommissioned 2026-10-30 (no deploys); nodejs22 deprecated 2027-04-30, decommissioned 2027-10-31; nodejs24 deprecated 2028-04-30. package.json engines says which Node versions the code supports; CI (cloudbuild.yaml) runs the unit tests on this runtime's Node version too."
  type        = string
  default     = "nodejs22"

  validation {
    condition     = contains(["nodejs22", "nodejs24"], var.function_runtime)
    error_message = "function_runtime must be nodejs22 or nodejs24: nodejs20 and older are decommissioned (Cloud Functions refuses to deploy them)."
  }
}

variable "functions" {
  description = <<-EOT
    Per-function sizing. timeout_seconds is capped at 540 (the maximum for event-driven functions);
    max_instances bounds the load the rotator can put on Secret Manager (2 writes/s per secret) and
    the databases. retireVersions defaults to one instance: ticks are idempotent, but one at a time
    keeps the database session checks readable.
  EOT
  type = object({
    rotate_secret = optional(object({
      timeout_seconds = optional(number, 540)
      max_instances   = optional(number, 10)
      memory          = optional(string, "512Mi")
    }), {})
    refresh_consumers = optional(object({
      timeout_seconds = optional(number, 540)
      max_instances   = optional(number, 5)
      memory          = optional(string, "256Mi")
    }), {})
    retire_versions = optional(object({
      timeout_seconds = optional(number, 540)
      max_instances   = optional(number, 1)
      memory          = optional(string, "512Mi")
    }), {})
  })
  default = {}

  validation {
    condition     = alltrue([for f in values(var.functions) : f.timeout_seconds >= 60 && f.timeout_seconds <= 540])
    error_message = "functions.*.timeout_seconds must be between 60 and 540 (event-driven functions allow at most 540 s)."
  }

  validation {
    condition     = alltrue([for f in values(var.functions) : f.max_instances >= 1 && f.max_instances <= 100])
    error_message = "functions.*.max_instances must be between 1 and 100."
  }

  validation {
    condition     = alltrue([for f in values(var.functions) : can(regex("^[0-9]+(Mi|Gi)$", f.memory))])
    error_message = "functions.*.memory must be like 256Mi or 1Gi."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of the functions: the lowest severity written."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "NOTICE", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be one of DEBUG, INFO, NOTICE, WARNING, ERROR."
  }
}

variable "rotator_lease_seconds" {
  description = "ROTATOR_LEASE_SECONDS: how long a claimed rotation stays claimed before another delivery may take it over. Must exceed rotateSecret's timeout, because a timed-out function keeps running."
  type        = number
  default     = 600

  validation {
    condition     = var.rotator_lease_seconds >= 120 && var.rotator_lease_seconds <= 3600
    error_message = "rotator_lease_seconds must be between 120 and 3600."
  }
}

variable "rotator_max_attempts" {
  description = "ROTATOR_MAX_ATTEMPTS: attempts of one rotation (counted on the Secret) before it is marked failed, announced and alerted on. A secret may override it with max_attempts."
  type        = number
  default     = 5

  validation {
    condition     = var.rotator_max_attempts >= 1 && var.rotator_max_attempts <= 20
    error_message = "rotator_max_attempts must be between 1 and 20."
  }
}

variable "rotator_db_concurrency" {
  description = "ROTATOR_DB_CONCURRENCY: how many database connections one function instance opens at once (retireVersions works on several secrets per tick)."
  type        = number
  default     = 4

  validation {
    condition     = var.rotator_db_concurrency >= 1 && var.rotator_db_concurrency <= 32
    error_message = "rotator_db_concurrency must be between 1 and 32."
  }
}

variable "staging_secret_shards" {
  description = "How many staging secrets (staging.tf) pending credentials are spread over, by a hash of the managed secret's name. One carries about 120 rotations a minute (Secret Manager's soft per-secret write rate); raise it only for fleets that rotate faster."
  type        = number
  default     = 1

  validation {
    condition     = var.staging_secret_shards >= 1 && var.staging_secret_shards <= 8
    error_message = "staging_secret_shards must be between 1 and 8."
  }
}

variable "overdue_margin" {
  description = "ROTATOR_OVERDUE_MARGIN: how long past its scheduled time a rotation may lag before retireVersions reports it overdue (90s, 30m, 1h, 1d). Keep it above the retire tick interval plus a rotation's duration."
  type        = string
  default     = "1h"

  validation {
    condition     = can(regex("^[0-9]{1,9}(s|m|h|d)?$", var.overdue_margin))
    error_message = "overdue_margin must be a duration such as 30m, 1h or 1d."
  }
}

variable "regional_secret_locations" {
  description = "ROTATOR_LOCATIONS: regions whose regional managed secrets retireVersions also scans. This module declares global secrets only; regional ones need the same per-secret grants, made outside it."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for l in var.regional_secret_locations : can(regex("^[a-z]+-[a-z]+[0-9]+$", l))])
    error_message = "regional_secret_locations must be regions such as europe-west1."
  }
}

# ---------------------------------------------------------------------------------------------
# Delivery: retries and dead letters
# ---------------------------------------------------------------------------------------------

variable "max_delivery_attempts" {
  description = "Pub/Sub deliveries of one message before it goes to the trigger's dead-letter topic (5-100). Keep it above the rotator's own max attempts, so that the rotator marks a secret failed (and alerts) before Pub/Sub gives up on the message."
  type        = number
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100 (Pub/Sub's limits)."
  }
}

variable "retry_backoff" {
  description = "Exponential backoff between redeliveries of a failed event (Pub/Sub allows 0-600 s)."
  type = object({
    minimum_seconds = optional(number, 10)
    maximum_seconds = optional(number, 600)
  })
  default = {}

  validation {
    condition     = var.retry_backoff.minimum_seconds >= 0 && var.retry_backoff.maximum_seconds <= 600 && var.retry_backoff.minimum_seconds <= var.retry_backoff.maximum_seconds
    error_message = "retry_backoff: 0 <= minimum_seconds <= maximum_seconds <= 600."
  }
}

variable "event_retention_seconds" {
  description = "How long an unacknowledged event is kept on a trigger subscription (and a dead letter on its hold subscription), in seconds: 600 to 2678400 (31 days)."
  type        = number
  default     = 604800

  validation {
    condition     = var.event_retention_seconds >= 600 && var.event_retention_seconds <= 2678400
    error_message = "event_retention_seconds must be between 600 (10 minutes) and 2678400 (31 days)."
  }
}

variable "secret_events_filter" {
  description = "Optional Pub/Sub filter on the rotateSecret subscription (immutable: changing it replaces the subscription). Empty = every message reaches the function, which acknowledges the event types it does not handle."
  type        = string
  default     = ""
}

# ---------------------------------------------------------------------------------------------
# Retire tick
# ---------------------------------------------------------------------------------------------

variable "retire_schedule" {
  description = "Cron schedule of the retire tick (Cloud Scheduler, unix-cron). Each tick retires what is due, destroys versions beyond retention and reports overdue rotations."
  type        = string
  default     = "*/15 * * * *"

  validation {
    condition     = length(split(" ", trimspace(var.retire_schedule))) == 5
    error_message = "retire_schedule must be a 5-field unix-cron expression, e.g. \"*/15 * * * *\"."
  }
}

variable "retire_time_zone" {
  description = "Time zone of retire_schedule (tz database name)."
  type        = string
  default     = "Etc/UTC"
}

# ---------------------------------------------------------------------------------------------
# Networking (private Cloud SQL)
# ---------------------------------------------------------------------------------------------

variable "vpc_connector" {
  description = "Serverless VPC Access connector for rotateSecret and retireVersions, which talk to the databases (needed for private-IP Cloud SQL or databases inside a VPC), as projects/P/locations/R/connectors/NAME. null = no VPC egress. refreshConsumers only talks to Databricks and Google APIs and never uses it."
  type        = string
  default     = null

  validation {
    condition     = var.vpc_connector == null || can(regex("^projects/[^/]+/locations/[^/]+/connectors/[^/]+$", var.vpc_connector))
    error_message = "vpc_connector must be projects/PROJECT/locations/REGION/connectors/NAME, or null."
  }
}

variable "vpc_egress" {
  description = "Which traffic goes through vpc_connector: PRIVATE_RANGES_ONLY (databases on private IPs; Google APIs stay direct) or ALL_TRAFFIC (e.g. a database allow-listing a Cloud NAT address)."
  type        = string
  default     = "PRIVATE_RANGES_ONLY"

  validation {
    condition     = contains(["PRIVATE_RANGES_ONLY", "ALL_TRAFFIC"], var.vpc_egress)
    error_message = "vpc_egress must be PRIVATE_RANGES_ONLY or ALL_TRAFFIC."
  }
}

# ---------------------------------------------------------------------------------------------
# Secrets
# ---------------------------------------------------------------------------------------------

variable "managed_secrets" {
  description = <<-EOT
    The database credentials to rotate, keyed by secret ID. Terraform creates the Secret (topics,
    rotation schedule, label rotator=managed, the rotator.* config annotations); the first version
    (the credential JSON) is added by you, out of band, so that no password ever lands in the
    Terraform state (docs/deploy.md).

    - engine: postgres | mysql | mariadb
    - strategy: single-user | alternating-users | dual-password (dual-password: mysql/mariadb only)
    - admin_secret: a key of var.admin_secrets, or "self" (the credential changes its own password;
      single-user only)
    - When it rotates: EITHER a cron schedule (schedule, time_zone, window) OR a fixed period
      (rotation_period_seconds, next_rotation_time), not both.
    - schedule: 5-field cron, e.g. "0 2 * * 0" (Sundays 02:00); the rotator keeps Secret Manager's
      next_rotation_time on it (docs/operations.md "Schedules, windows and pause")
    - time_zone: IANA zone the schedule is read in (default UTC), e.g. "Europe/Berlin"
    - window: how long after each scheduled time a rotation may still start (default 1h, min 1h)
    - rotation_period_seconds: >= 3600 (Secret Manager's minimum), <= 3153600000
    - next_rotation_time: RFC 3339 UTC, at least 5 minutes in the future when first applied; leave
      it out and the module spreads the first rotation of each secret over its period (by secret
      ID), so that a fleet does not all rotate in the same minutes. Secret Manager advances it by
      the period after each notification, so Terraform ignores later drift.
    - login: the database login the secret holds. Required unless admin_secret is "self" or
      login_pair is set: the admin secret's rotator.serves annotation lists it (and, with
      alternating-users, <login>_clone), and the rotator changes no other login (docs/deploy.md)
    - login_pair: alternating-users only, the two logins "a,b" (default: login and <login>_clone)
    - grace_period / max_grace_period: how long the previous credential stays valid after a
      rotation, and the limit when Databricks consumers never confirm (90s, 30m, 24h, 7d; max
      defaults to 3 x grace)
    - consumers: JSON (jsonencode({ workspace = { host, auth }, targets = [...] })) of the
      Databricks workspace and the targets to refresh (docs/databricks.md)
    - cloudsql_instance: "project:region:instance" when the database is Cloud SQL (grants
      roles/cloudsql.client on that instance only)
    - replica_locations: user-managed replication; null = automatic
    - readers: principals that read the credential at run time (e.g. the Google service account
      of a Databricks job cluster, serviceAccount:etl@P.iam.gserviceaccount.com): each gets
      roles/secretmanager.secretAccessor on this secret only (output reader_grants;
      docs/databricks.md, "Consumers")
  EOT
  type = map(object({
    engine                  = string
    strategy                = string
    admin_secret            = string
    rotation_period_seconds = optional(number)
    next_rotation_time      = optional(string)
    schedule                = optional(string)
    time_zone               = optional(string)
    window                  = optional(string)
    login                   = optional(string)
    login_pair              = optional(string)
    grace_period            = optional(string, "24h")
    max_grace_period        = optional(string)
    test_query              = optional(string)
    password_length         = optional(number)
    password_exclude        = optional(string)
    retention_versions      = optional(number)
    retention_days          = optional(number)
    max_attempts            = optional(number)
    consumers               = optional(string)
    cloudsql_instance       = optional(string)
    replica_locations       = optional(list(string))
    labels                  = optional(map(string), {})
    readers                 = optional(list(string), [])
  }))
  default = {}

  validation {
    condition     = alltrue([for id, s in var.managed_secrets : can(regex("^[A-Za-z0-9_-]{1,255}$", id))])
    error_message = "managed_secrets keys are secret IDs: 1-255 characters of letters, digits, '_' and '-'."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : (s.schedule == null) != (s.rotation_period_seconds == null)])
    error_message = "managed_secrets.*: set either schedule (cron, with optional time_zone and window) or rotation_period_seconds (with optional next_rotation_time), not both and not neither."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : s.schedule != null || (s.time_zone == null && s.window == null)])
    error_message = "managed_secrets.*.time_zone and window only go with schedule."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : s.schedule == null || s.next_rotation_time == null])
    error_message = "managed_secrets.*.next_rotation_time goes with rotation_period_seconds; with a schedule the rotator sets it."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : s.schedule == null || can(regex("^\\S+( \\S+){4}$", coalesce(s.schedule, "x")))])
    error_message = "managed_secrets.*.schedule must be a 5-field cron expression such as \"0 2 * * 0\" (minute hour day-of-month month day-of-week)."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : s.time_zone == null || can(regex("^(UTC|[A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$", coalesce(s.time_zone, "x")))])
    error_message = "managed_secrets.*.time_zone must be an IANA time zone such as Europe/Berlin or UTC."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : s.window == null || can(regex("^([0-9]+h|[0-9]+d)$", coalesce(s.window, "x"))) && !can(regex("^0+[hd]$", coalesce(s.window, "x")))])
    error_message = "managed_secrets.*.window must be whole hours or days (at least 1h), such as 3h or 1d."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : s.rotation_period_seconds == null || try(s.rotation_period_seconds >= 3600 && s.rotation_period_seconds <= 3153600000 && floor(s.rotation_period_seconds) == s.rotation_period_seconds, false)])
    error_message = "managed_secrets.*.rotation_period_seconds must be a whole number of seconds between 3600 (1 hour, Secret Manager's minimum) and 3153600000 (100 years)."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : s.next_rotation_time == null || (can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?Z$", coalesce(s.next_rotation_time, "x"))) && can(timeadd(coalesce(s.next_rotation_time, "x"), "0s")))])
    error_message = "managed_secrets.*.next_rotation_time must be an RFC 3339 UTC timestamp such as 2030-01-01T03:00:00Z."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : contains(["postgres", "mysql", "mariadb"], s.engine)])
    error_message = "managed_secrets.*.engine must be postgres, mysql or mariadb."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : contains(["single-user", "alternating-users", "dual-password"], s.strategy)])
    error_message = "managed_secrets.*.strategy must be single-user, alternating-users or dual-password."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : s.strategy != "dual-password" || s.engine != "postgres"])
    error_message = "managed_secrets: PostgreSQL has no dual passwords; use alternating-users (or single-user)."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : s.admin_secret != "self" || s.strategy == "single-user"])
    error_message = "managed_secrets.*.admin_secret = \"self\" only works with single-user: the other strategies create or alter a second login, which needs an admin credential."
  }

  validation {
    condition = alltrue([for s in values(var.managed_secrets) : alltrue([
      for d in [s.grace_period, s.max_grace_period] : can(regex("^[0-9]{1,9}(s|m|h|d)?$", d)) if d != null
    ])])
    error_message = "managed_secrets.*.grace_period and max_grace_period must be durations such as 30m, 24h or 7d."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : s.consumers == null || can(length(jsondecode(s.consumers).targets) > 0 && startswith(jsondecode(s.consumers).workspace.host, "https://"))])
    error_message = "managed_secrets.*.consumers must be JSON (jsonencode) with workspace.host (https://…), workspace.auth and a non-empty targets list."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : s.admin_secret == "self" || s.login != null || s.login_pair != null])
    error_message = "managed_secrets.*.login is required unless admin_secret is \"self\" or login_pair is set: the admin secret must say which login it serves."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : s.login == null || can(regex("^[A-Za-z0-9_-]{1,80}$", coalesce(s.login, "x")))])
    error_message = "managed_secrets.*.login must be 1-80 letters, digits, '_' or '-'."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : s.login_pair == null || (s.strategy == "alternating-users" && can(regex("^[^,\\s]{1,80},[^,\\s]{1,80}$", coalesce(s.login_pair, "x"))))])
    error_message = "managed_secrets.*.login_pair is for alternating-users only: two different login names, \"a,b\"."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : (s.password_exclude == null || length(coalesce(s.password_exclude, "x")) <= 64) && (s.test_query == null || length(coalesce(s.test_query, "x")) <= 1000)])
    error_message = "managed_secrets.*.password_exclude is at most 64 characters and test_query at most 1000."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : s.password_length == null || (coalesce(s.password_length, 32) >= 16 && coalesce(s.password_length, 32) <= 128)])
    error_message = "managed_secrets.*.password_length must be between 16 and 128."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : s.retention_versions == null || (coalesce(s.retention_versions, 2) >= 2 && coalesce(s.retention_versions, 2) <= 1000)])
    error_message = "managed_secrets.*.retention_versions must be between 2 and 1000 (current and previous are never destroyed)."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : s.retention_days == null || (coalesce(s.retention_days, 1) >= 1 && coalesce(s.retention_days, 1) <= 3650)])
    error_message = "managed_secrets.*.retention_days must be between 1 and 3650."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : s.max_attempts == null || (coalesce(s.max_attempts, 1) >= 1 && coalesce(s.max_attempts, 1) <= 20)])
    error_message = "managed_secrets.*.max_attempts must be between 1 and 20."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : s.cloudsql_instance == null || can(regex("^([a-z.-]+:)?[a-z][a-z0-9-]*:[a-z]+-[a-z]+[0-9]+:[a-z][a-z0-9-]*$", coalesce(s.cloudsql_instance, "x")))])
    error_message = "managed_secrets.*.cloudsql_instance must be an instance connection name, project:region:instance."
  }

  # One principal each, never a whole domain or the public: whoever is listed can read the password.
  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : alltrue([for m in s.readers : can(regex("^(user|group|serviceAccount):[^@\\s]+@[^@\\s]+$|^principal(Set)?://iam\\.googleapis\\.com/\\S+$", m))])])
    error_message = "managed_secrets.*.readers must be IAM principals such as serviceAccount:etl@P.iam.gserviceaccount.com, group:etl@example.com, or a principal:// / principalSet:// workload identity; not domain:, allUsers or allAuthenticatedUsers."
  }

  validation {
    condition     = alltrue([for s in values(var.managed_secrets) : length(s.readers) == length(distinct(s.readers))])
    error_message = "managed_secrets.*.readers must not list a principal twice."
  }
}

variable "admin_secrets" {
  description = "Secrets holding the admin credentials the rotator uses to change passwords, keyed by secret ID. Terraform creates them empty (add the value yourself); only rotateSecret and retireVersions may read them. replica_locations null = automatic replication."
  type = map(object({
    replica_locations = optional(list(string))
    labels            = optional(map(string), {})
  }))
  default = {}

  validation {
    condition     = alltrue([for id, s in var.admin_secrets : can(regex("^[A-Za-z0-9_-]{1,255}$", id))])
    error_message = "admin_secrets keys are secret IDs: 1-255 characters of letters, digits, '_' and '-'."
  }
}

variable "databricks_credential_secrets" {
  description = "Secrets holding Databricks fallback credentials (OAuth M2M client secret, or a personal access token as the last resort), created empty by Terraform; only refreshConsumers may read them. Leave empty when refreshConsumers authenticates with its own Google ID token (recommended)."
  type        = set(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.databricks_credential_secrets : can(regex("^[A-Za-z0-9_-]{1,255}$", id))])
    error_message = "databricks_credential_secrets are secret IDs: 1-255 characters of letters, digits, '_' and '-'."
  }
}

variable "databricks_hosts" {
  description = "ROTATOR_DATABRICKS_HOSTS: the Databricks workspace URLs (https://…) that managed secrets' consumers may name. A consumers config naming any other host fails without sending anything. Empty = no Databricks refresh at all."
  type        = set(string)
  default     = []

  validation {
    condition     = alltrue([for h in var.databricks_hosts : can(regex("^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$", h))])
    error_message = "databricks_hosts must be workspace URLs such as https://adb-123.4.azuredatabricks.net."
  }
}

variable "secret_projects" {
  description = "ROTATOR_PROJECTS: projects besides project_id whose secrets (labelled rotator=managed) this deployment rotates, e.g. a separate secrets project. Their secrets are onboarded outside this module (docs/deploy.md); the module only lets the functions act on them."
  type        = set(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.secret_projects : can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", p))])
    error_message = "secret_projects must be project IDs."
  }
}

variable "databricks_impersonate_service_accounts" {
  description = "Service accounts (emails) that refreshConsumers impersonates to get its Databricks ID token (workspace auth google-id with impersonate, as Databricks recommends). refreshConsumers gets roles/iam.serviceAccountTokenCreator on each, and nothing else. Empty = it uses its own identity."
  type        = set(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.databricks_impersonate_service_accounts : can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9.-]+\\.iam\\.gserviceaccount\\.com$", e))])
    error_message = "databricks_impersonate_service_accounts must be service account emails (NAME@PROJECT.iam.gserviceaccount.com)."
  }
}

variable "operator_members" {
  description = "Principals (user:…, group:…, serviceAccount:…) who run the gsm-rotator CLI: they may publish on-demand rotation requests to secret-events, list secrets and view the managed secrets' metadata (never their values)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.operator_members : can(regex("^(user|group|serviceAccount|domain|principal|principalSet):.+$", m))])
    error_message = "operator_members must be IAM principals such as group:platform@example.com."
  }
}

# ---------------------------------------------------------------------------------------------
# Audit, logs, alerts
# ---------------------------------------------------------------------------------------------

variable "log_retention_days" {
  description = "Retention of the log bucket that keeps the rotation history (the _Default bucket keeps 30 days)."
  type        = number
  default     = 400

  validation {
    condition     = var.log_retention_days >= 31 && var.log_retention_days <= 3650
    error_message = "log_retention_days must be between 31 and 3650."
  }
}

variable "log_bucket_location" {
  description = "Location of the rotation-history log bucket (global, or a region for data residency)."
  type        = string
  default     = "global"
}

variable "alert_notification_channels" {
  description = "Cloud Monitoring notification channel IDs (projects/P/notificationChannels/N) for the alert policies. Empty = the policies exist and open incidents, but notify nobody."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.alert_notification_channels : can(regex("^projects/[^/]+/notificationChannels/[^/]+$", c))])
    error_message = "alert_notification_channels must be projects/PROJECT/notificationChannels/ID."
  }
}
