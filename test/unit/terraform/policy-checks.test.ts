import {
  checkCustomRolesMatchCode,
  checkEnvironmentsRoot,
  checkFunctionRolesMatchReach,
  checkManagedSecrets,
  checkNoKeysOrSecretValues,
  checkNoProjectLevelSecretManagerRole,
  checkOneServiceAccountPerFunction,
  checkPublisherBindings,
  checkSecretManagerAuditConfig,
  checkSecretReaders,
  checkTriggersRetryAndDeadLetter,
} from './policy-checks';
import { clientMethodNames, findMethodCalls, METHOD_PERMISSIONS } from './secret-manager-calls';
import { parseTerraform } from './terraform-tree';

/**
 * The policy checks against small wrong configurations: each rule must actually catch what it is
 * there to catch, or the green run on terraform/ proves nothing.
 */
const tf = (text: string) => parseTerraform({ 'bad/main.tf': text });

const functionWith = (extra: string) => `
resource "google_service_account" "runtime" {
  account_id = "fn"
}
resource "google_cloudfunctions2_function" "fn" {
  name = "fn"
  build_config {
    entry_point = "rotateSecret"
  }
  service_config {
    service_account_email = google_service_account.runtime.email
  }
  ${extra}
}
`;

describe('the policy checks catch', () => {
  it('Secret Manager roles on the project, predefined or custom', async () => {
    const tree = await tf(`
      resource "google_project_iam_member" "predefined" {
        role   = "roles/secretmanager.secretAccessor"
        member = "serviceAccount:fn@p.iam.gserviceaccount.com"
      }
      resource "google_project_iam_custom_role" "wide" {
        role_id     = "wide"
        permissions = ["secretmanager.versions.access", "secretmanager.secrets.list"]
      }
      resource "google_project_iam_member" "custom" {
        role   = google_project_iam_custom_role.wide.name
        member = "serviceAccount:fn@p.iam.gserviceaccount.com"
      }
      resource "google_project_iam_policy" "authoritative" {
        policy_data = "{}"
      }
    `);
    const violations = checkNoProjectLevelSecretManagerRole(tree);
    // hcl2json orders blocks by name.
    expect(violations).toEqual([
      expect.stringContaining('project-level custom role carries secretmanager.versions.access'),
      expect.stringContaining('grants roles/secretmanager.secretAccessor on the whole project'),
      expect.stringContaining('authoritative IAM policy'),
    ]);
  });

  it('a function triggered by Eventarc, and a trigger without retry or dead letters', async () => {
    const eventarc = await tf(
      functionWith('event_trigger {\n retry_policy = "RETRY_POLICY_RETRY"\n}'),
    );
    expect(checkTriggersRetryAndDeadLetter(eventarc)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('event_trigger lets Eventarc own the subscription'),
        expect.stringContaining('no push subscription triggers it'),
      ]),
    );

    const bare = await tf(`${functionWith('')}
      resource "google_pubsub_subscription" "trigger" {
        push_config {
          push_endpoint = google_cloudfunctions2_function.fn.service_config[0].uri
          oidc_token {
            service_account_email = google_service_account.runtime.email
          }
        }
      }
    `);
    expect(checkTriggersRetryAndDeadLetter(bare)).toEqual(
      expect.arrayContaining([
        expect.stringContaining("pushes as a function's runtime account"),
        expect.stringContaining('no retry_policy'),
        expect.stringContaining('would expire after 31 idle days'),
        expect.stringContaining('no dead_letter_policy'),
      ]),
    );
  });

  it('a dead-letter topic that nothing holds and the Pub/Sub agent cannot publish to', async () => {
    const tree = await tf(`${functionWith('')}
      resource "google_project_service_identity" "pubsub" {
        service = "pubsub.googleapis.com"
      }
      resource "google_pubsub_topic" "dlq" {
        name = "dlq"
      }
      resource "google_pubsub_subscription" "trigger" {
        push_config {
          push_endpoint = google_cloudfunctions2_function.fn.service_config[0].uri
          oidc_token {
            service_account_email = google_service_account.invoker.email
          }
        }
        retry_policy {
          minimum_backoff = "10s"
          maximum_backoff = "600s"
        }
        expiration_policy {
          ttl = ""
        }
        dead_letter_policy {
          dead_letter_topic     = google_pubsub_topic.dlq.id
          max_delivery_attempts = 3
        }
      }
    `);
    expect(checkTriggersRetryAndDeadLetter(tree)).toEqual([
      expect.stringContaining('max_delivery_attempts must be a validated 5-100'),
      expect.stringContaining('nothing holds the dead letters'),
      expect.stringContaining('cannot publish to google_pubsub_topic.dlq'),
      expect.stringContaining('cannot acknowledge'),
    ]);
  });

  it('a managed secret without topics, rotating too often, whose aliases Terraform would reset', async () => {
    const tree = await tf(`
      resource "google_secret_manager_secret" "db" {
        labels = { rotator = "managed" }
        rotation {
          rotation_period    = "1800s"
          next_rotation_time = "2030-01-01T00:00:00Z"
        }
      }
    `);
    expect(checkManagedSecrets(tree)).toEqual([
      expect.stringContaining('no topics'),
      expect.stringContaining('rotation_period 1800s is below 3600s'),
      expect.stringContaining('must ignore_changes version_aliases'),
      expect.stringContaining('must ignore_changes rotation[0].next_rotation_time'),
    ]);
  });

  it('a rotation period from a variable that does not validate it', async () => {
    const tree = await tf(`
      variable "secrets" {
        type = map(object({ period = number }))
      }
      resource "google_secret_manager_secret" "db" {
        for_each = var.secrets
        labels   = merge(var.labels, { rotator = "managed" })
        topics {
          name = "projects/p/topics/t"
        }
        rotation {
          rotation_period    = "\${each.value.period}s"
          next_rotation_time = "2030-01-01T00:00:00Z"
        }
        lifecycle {
          ignore_changes = [version_aliases, rotation[0].next_rotation_time]
        }
      }
    `);
    expect(checkManagedSecrets(tree)).toEqual([
      expect.stringContaining('var.secrets does not validate period >= 3600'),
    ]);
  });

  it('a custom role with a permission the code does not use, or without one it does', async () => {
    const tree = await tf(`
      resource "google_project_iam_custom_role" "rotator" {
        role_id     = "rotator"
        permissions = ["secretmanager.secrets.get", "secretmanager.versions.destroy"]
      }
      resource "google_secret_manager_secret_iam_member" "grant" {
        role   = google_project_iam_custom_role.rotator.name
        member = "serviceAccount:fn@p.iam.gserviceaccount.com"
      }
    `);
    const calls = [
      { method: 'getSecret', file: 'shared/a.ts', line: 1 },
      { method: 'accessSecretVersion', file: 'shared/a.ts', line: 2 },
      { method: 'listSecretsAsync', file: 'shared/a.ts', line: 3 },
      { method: 'createSecret', file: 'shared/b.ts', line: 4 },
    ];
    expect(checkCustomRolesMatchCode(tree, calls)).toEqual([
      'shared/b.ts:4: calls createSecret, which has no permission mapping yet',
      expect.stringContaining(
        'grants secretmanager.versions.destroy, which no Secret Manager call',
      ),
      expect.stringContaining('no project-level role grants secretmanager.secrets.list'),
    ]);
  });

  it('a function role with a call its entry point never makes, or missing one it makes', async () => {
    const tree = await tf(`
      locals {
        functions = {
          rotate_secret     = { name = "r" }
          refresh_consumers = { name = "f" }
        }
        function_secret_permissions = {
          rotate_secret     = ["secretmanager.secrets.get"]
          refresh_consumers = ["secretmanager.secrets.get", "secretmanager.versions.add"]
        }
      }
      resource "google_project_iam_custom_role" "function_secrets" {
        for_each    = local.function_secret_permissions
        permissions = each.value
      }
      resource "google_secret_manager_secret_iam_member" "managed" {
        for_each = { for pair in setproduct(["db"], keys(local.functions)) : pair[1] => { function = pair[1] } }
        role     = google_project_iam_custom_role.function_secrets[each.value.function].name
        member   = "serviceAccount:\${google_service_account.function[each.value.function].email}"
      }
      resource "google_secret_manager_secret_iam_member" "shared" {
        role   = google_project_iam_custom_role.function_secrets["rotate_secret"].name
        member = "serviceAccount:\${google_service_account.function["refresh_consumers"].email}"
      }
    `);
    const reach = {
      rotate_secret: ['secretmanager.secrets.get', 'secretmanager.versions.add'],
      refresh_consumers: ['secretmanager.secrets.get'],
    };
    expect(checkFunctionRolesMatchReach(tree, reach)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('["rotate_secret"]: lacks secretmanager.versions.add'),
        expect.stringContaining(
          '["refresh_consumers"]: grants secretmanager.versions.add, which refresh_consumers never calls',
        ),
        expect.stringContaining("without pairing it with that function's own account"),
      ]),
    );
  });

  it('two functions sharing a service account', async () => {
    const tree = await tf(`${functionWith('')}
      resource "google_cloudfunctions2_function" "other" {
        service_config {
          service_account_email = google_service_account.runtime.email
        }
      }
    `);
    expect(checkOneServiceAccountPerFunction(tree)).toEqual([
      expect.stringContaining(
        'shares google_service_account.runtime with bad/main.tf: google_cloudfunctions2_function.fn',
      ),
    ]);
  });

  it('audit logs without data reads, or that can be switched off', async () => {
    const tree = await tf(`
      resource "google_project_iam_audit_config" "sm" {
        count   = var.audit ? 1 : 0
        service = "secretmanager.googleapis.com"
        audit_log_config {
          log_type = "ADMIN_READ"
        }
      }
    `);
    expect(checkSecretManagerAuditConfig(tree)).toEqual([
      expect.stringContaining('must not be optional'),
      expect.stringContaining('DATA_READ is not logged'),
      expect.stringContaining('DATA_WRITE is not logged'),
    ]);
    expect(checkSecretManagerAuditConfig(await tf('locals {\n x = 1\n}'))).toEqual([
      'no google_project_iam_audit_config for secretmanager.googleapis.com',
    ]);
  });

  it('a function publishing where it must not, and one that cannot publish where it must', async () => {
    const tree = await tf(`
      resource "google_service_account" "function" {
        for_each   = local.functions
        account_id = each.value.account_id
      }
      resource "google_cloudfunctions2_function" "function" {
        for_each = local.functions
        service_config {
          service_account_email = google_service_account.function[each.key].email
        }
      }
      resource "google_pubsub_topic_iam_member" "refresh_publishes" {
        topic  = google_pubsub_topic.event["secret_events"].name
        role   = "roles/pubsub.publisher"
        member = "serviceAccount:\${google_service_account.function["refresh_consumers"].email}"
      }
      resource "google_project_iam_member" "project_publisher" {
        role   = "roles/pubsub.publisher"
        member = "serviceAccount:\${google_service_account.function["retire_versions"].email}"
      }
    `);
    expect(
      checkPublisherBindings(tree, { rotate_secret: ['rotation_events'], refresh_consumers: [] }),
    ).toEqual([
      expect.stringContaining('roles/pubsub.publisher for a function account above topic level'),
      expect.stringContaining('refresh_consumers may not publish to secret_events'),
      'rotate_secret must be able to publish to rotation_events',
    ]);
  });

  it('secret versions and service account keys in Terraform', async () => {
    const tree = await tf(`
      resource "google_secret_manager_secret_version" "v" {
        secret_data = "hunter2"
      }
      resource "google_service_account_key" "k" {
        service_account_id = "x"
      }
    `);
    expect(checkNoKeysOrSecretValues(tree)).toHaveLength(2);
  });

  it('a consumer reading an admin secret, with a wider role, or granted outside the readers list', async () => {
    const tree = await tf(`
      variable "managed_secrets" {
        type = map(object({ readers = list(string) }))
      }
      resource "google_secret_manager_secret" "managed" {
        labels = { rotator = "managed" }
      }
      resource "google_secret_manager_secret" "admin" {
        labels = { rotator-role = "admin" }
      }
      resource "google_secret_manager_secret_iam_member" "on_admin" {
        for_each  = { for id, s in var.managed_secrets : id => s.readers[0] }
        secret_id = google_secret_manager_secret.admin.secret_id
        role      = "roles/secretmanager.secretAccessor"
        member    = each.value
      }
      resource "google_secret_manager_secret_iam_member" "wide" {
        for_each  = { for id, s in var.managed_secrets : id => s.readers[0] }
        secret_id = google_secret_manager_secret.managed.secret_id
        role      = "roles/secretmanager.admin"
        member    = each.value
      }
      resource "google_secret_manager_secret_iam_member" "anyone" {
        secret_id = google_secret_manager_secret.managed.secret_id
        role      = "roles/secretmanager.secretAccessor"
        member    = "domain:example.com"
      }
    `);
    expect(checkSecretReaders(tree)).toEqual([
      expect.stringContaining(
        'anyone: must be made for each principal of managed_secrets.*.readers',
      ),
      expect.stringContaining('on_admin: a consumer may read a managed secret only'),
      expect.stringContaining(
        'wide: roles/secretmanager.admin carries more than reading the value',
      ),
      'var.managed_secrets does not validate the principals of readers',
    ]);
  });

  it('an environments root with a fixed environment, a fixed state prefix, or a root per environment', async () => {
    const tree = await parseTerraform({
      'environments/main.tf': `
        terraform {
          backend "gcs" {
            prefix = "gsm-rotator/dev"
          }
        }
        module "gsm_rotator" {
          source      = "../modules/gsm-rotator"
          environment = "dev"
        }
      `,
      'environments/qa/main.tf': 'locals {}',
    });
    expect(checkEnvironmentsRoot(tree, 'environments')).toEqual([
      'environments: environment must come from var.environment (the tfvars file)',
      'environments: the backend must be partial (prefix in ENV.gcs.tfbackend, bucket at init)',
      'environments/qa: a second root; environments differ by tfvars only',
    ]);
    const bare = await parseTerraform({ 'environments/main.tf': 'locals {}' });
    expect(checkEnvironmentsRoot(bare, 'environments')).toEqual([
      'environments: must instantiate the gsm-rotator module once',
      'environments: no backend "gcs" block',
    ]);
  });
});

describe('the Secret Manager call scan', () => {
  it('knows a permission for every read/write method the rotator may call, and only those', () => {
    const known = clientMethodNames();
    for (const method of Object.keys(METHOD_PERMISSIONS)) expect(known).toContain(method);
    // Creating or deleting secrets and changing IAM are never the rotator's business.
    for (const method of ['createSecret', 'deleteSecret', 'setIamPolicy', 'rotateSecret']) {
      expect(known).toContain(method);
      expect(METHOD_PERMISSIONS).not.toHaveProperty(method);
    }
  });

  it('finds calls in the syntax tree, not in comments or strings', () => {
    const text = `
      // client.destroySecretVersion(x) in a comment
      const s = 'client.disableSecretVersion(y)';
      await client.getSecret({ name });
      await client['accessSecretVersion']({ name });
      functions.cloudEvent('rotateSecret', handler);
    `;
    const methods = new Set(clientMethodNames());
    expect(findMethodCalls('x.ts', text, methods)).toEqual([
      { method: 'getSecret', file: 'x.ts', line: 4 },
      { method: 'accessSecretVersion', file: 'x.ts', line: 5 },
    ]);
  });
});
