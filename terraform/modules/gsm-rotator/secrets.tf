# The secrets. Terraform creates them and their configuration, never their values: the first
# version of each is added out of band (docs/deploy.md), so no credential enters the Terraform state.
#
# Ownership split on a managed secret:
#   Terraform owns  labels, topics, rotation_period, replication, and the rotator.* CONFIG annotations
#                   (engine, strategy, admin-secret, grace-period, …).
#   The rotator owns version_aliases (current/previous/pending), rotation.next_rotation_time once
#                   Secret Manager starts advancing it (and always for a secret with a cron
#                   schedule: no period, the rotator sets each next time), and the STATE
#                   annotations it writes (rotator.state, rotator.history, rotator.refresh,
#                   rotator.pause).
#
# How that works with annotations being one map: since provider 5.0 the `annotations` argument is
# non-authoritative. Terraform reads back, diffs and writes only the keys present in the
# configuration; the full map is the read-only `effective_annotations`. So the rotator's state keys
# never show up as drift and are never removed by an apply. The ignore_changes entries for them
# below are a second guard, for a configuration that would name one of those keys by mistake.
#
# The trade-off: the update that changes a config key sends the whole annotation map, as Terraform
# last read it, without the Secret's etag. If a rotation writes its state between Terraform's
# refresh and that update, the update puts the older state back (and the rotator's next
# compare-and-swap then fails and re-reads the older state). Change a managed secret's
# configuration when `gsm-rotator status` shows no rotation in flight for it (docs/deploy.md).
# The alternative, ignore_changes = [annotations], would make Terraform unable to ever change a
# secret's configuration after creation, which hides real drift; we prefer the explicit rule.

resource "google_secret_manager_secret" "managed" {
  for_each = var.managed_secrets

  project   = var.project_id
  secret_id = each.key
  # rotator=managed is what retireVersions lists (filter labels.rotator=managed); it goes last so
  # that no other label map can override it.
  labels      = merge(var.labels, each.value.labels, { rotator-env = var.environment, rotator = "managed" })
  annotations = local.managed_secret_annotations[each.key]

  replication {
    dynamic "auto" {
      for_each = each.value.replica_locations == null ? [1] : []
      content {}
    }
    dynamic "user_managed" {
      for_each = each.value.replica_locations == null ? [] : [1]
      content {
        dynamic "replicas" {
          for_each = each.value.replica_locations
          content {
            location = replicas.value
          }
        }
      }
    }
  }

  topics {
    name = google_pubsub_topic.event["secret_events"].id
  }

  # A cron schedule (rotator.schedule) has no period: the rotator sets each next_rotation_time.
  rotation {
    rotation_period    = each.value.rotation_period_seconds == null ? null : "${each.value.rotation_period_seconds}s"
    next_rotation_time = local.managed_secret_first_rotation[each.key]
  }

  lifecycle {
    precondition {
      condition     = each.value.admin_secret == "self" || contains(keys(var.admin_secrets), each.value.admin_secret)
      error_message = "managed_secrets[\"${each.key}\"].admin_secret must be \"self\" or a key of admin_secrets."
    }
    precondition {
      condition     = each.value.max_attempts == null || coalesce(each.value.max_attempts, 0) < var.max_delivery_attempts
      error_message = "managed_secrets[\"${each.key}\"].max_attempts must stay below max_delivery_attempts."
    }
    precondition {
      condition     = length(jsonencode(local.managed_secret_annotations[each.key])) < 12288
      error_message = "managed_secrets[\"${each.key}\"]: the config annotations are too large; Secret Manager allows 16 KiB in total and the rotator needs room for its state."
    }

    ignore_changes = [
      version_aliases,
      rotation[0].next_rotation_time,
      annotations["rotator.state"],
      annotations["rotator.history"],
      annotations["rotator.refresh"],
      annotations["rotator.pause"],
    ]
  }

  # Secret Manager refuses a topic its agent cannot publish to. The admin secrets first, so that the
  # rotator never sees a rotator.admin-secret that does not exist yet.
  depends_on = [
    google_pubsub_topic_iam_member.secret_manager_agent_publishes_secret_events,
    google_secret_manager_secret.admin,
  ]
}

# Admin credentials used to change the managed passwords. No topics, no rotation schedule: rotate
# them by hand or with their own process, and never point a managed secret's consumers at them.
resource "google_secret_manager_secret" "admin" {
  for_each = var.admin_secrets

  project   = var.project_id
  secret_id = each.key
  labels    = merge(var.labels, each.value.labels, { rotator-env = var.environment, rotator-role = "admin" })
  # Which managed secrets and logins this admin credential serves (locals.tf). Only who can update
  # this secret can widen it; the rotator checks it before every use of the credential.
  annotations = {
    "rotator.serves" = jsonencode(local.admin_secret_serves[each.key])
  }

  replication {
    dynamic "auto" {
      for_each = each.value.replica_locations == null ? [1] : []
      content {}
    }
    dynamic "user_managed" {
      for_each = each.value.replica_locations == null ? [] : [1]
      content {
        dynamic "replicas" {
          for_each = each.value.replica_locations
          content {
            location = replicas.value
          }
        }
      }
    }
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret" "databricks_credential" {
  for_each = var.databricks_credential_secrets

  project   = var.project_id
  secret_id = each.key
  labels    = merge(var.labels, { rotator-env = var.environment, rotator-role = "databricks-credential" })

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}
