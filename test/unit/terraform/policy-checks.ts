import path from 'node:path';
import { METHOD_PERMISSIONS, type MethodCall } from './secret-manager-calls';
import {
  blocks,
  firstBlock,
  isBody,
  referencesTo,
  resolveResource,
  resolveStringList,
  resourcesOf,
  stringAt,
  type TfBlock,
  type TfTree,
} from './terraform-tree';

/**
 * The deployment rules, each a function from the parsed terraform to the list of violations
 * (empty = the rule holds). The tests run them on terraform/ and on small bad examples, so that a
 * check that could never fail is caught too.
 */
export type Violations = string[];

const where = (b: TfBlock) => `${b.file}: ${b.type}.${b.name}`;

const PROJECT_LEVEL_IAM = [
  'google_project_iam_member',
  'google_project_iam_binding',
  'google_project_iam_policy',
  'google_folder_iam_member',
  'google_folder_iam_binding',
  'google_organization_iam_member',
  'google_organization_iam_binding',
];
const SECRET_LEVEL_IAM = [
  'google_secret_manager_secret_iam_member',
  'google_secret_manager_secret_iam_binding',
];
const TOPIC_IAM = [
  'google_pubsub_topic_iam_member',
  'google_pubsub_topic_iam_binding',
  'google_pubsub_topic_iam_policy',
];
const PUBLISH_ROLES = ['roles/pubsub.publisher', 'roles/pubsub.editor', 'roles/pubsub.admin'];
const SECRETS_LIST = 'secretmanager.secrets.list';

/** The principals of an IAM resource: `member`, or each of `members`. */
function membersOf(b: TfBlock): string[] {
  const one = stringAt(b.body, 'member');
  if (one) return [one];
  const many = b.body.members;
  return Array.isArray(many) ? many.filter((m): m is string => typeof m === 'string') : [];
}

/** Permissions of the custom roles an IAM role expression points at (undefined: unresolvable). */
function customRolePermissions(tree: TfTree, from: TfBlock, role: string): string[][] | undefined {
  const out: string[][] = [];
  for (const address of referencesTo(role, 'google_project_iam_custom_role')) {
    const roleBlock = resolveResource(tree, from, address);
    const permissions =
      roleBlock && resolveStringList(tree, roleBlock.dir, roleBlock.body.permissions);
    if (!permissions) return undefined;
    out.push(permissions);
  }
  return out;
}

/** `google_service_account.NAME` addresses the functions run as (per directory). */
export function functionAccounts(tree: TfTree): Set<string> {
  const out = new Set<string>();
  for (const fn of resourcesOf(tree, 'google_cloudfunctions2_function')) {
    const email = stringAt(firstBlock(fn.body, 'service_config'), 'service_account_email') ?? '';
    for (const address of referencesTo(email, 'google_service_account'))
      out.add(`${fn.dir}:${address}`);
  }
  return out;
}

const accountOf = (b: TfBlock, member: string) =>
  referencesTo(member, 'google_service_account').map((a) => `${b.dir}:${a}`);

/** Is this variable validated with `….FIELD >= N` (N at least `min`) in some condition? */
function validatesAtLeast(
  tree: TfTree,
  dir: string,
  varName: string,
  field: string,
  min: number,
): boolean {
  const variable = tree.variables.find((v) => v.dir === dir && v.name === varName);
  if (!variable) return false;
  return blocks(variable.body, 'validation').some((validation) => {
    const condition = stringAt(validation, 'condition') ?? '';
    const m = new RegExp(`\\.${field}\\s*>=\\s*(\\d+)`).exec(condition);
    return m?.[1] !== undefined && Number(m[1]) >= min;
  });
}

/** `${var.NAME}` → NAME. */
const varName = (expression: unknown) =>
  typeof expression === 'string' ? /^\$\{var\.([A-Za-z0-9_]+)\}$/.exec(expression)?.[1] : undefined;

// ---------------------------------------------------------------------------------------------

/** No Secret Manager role on a project, folder or organization: only per-secret grants. */
export function checkNoProjectLevelSecretManagerRole(tree: TfTree): Violations {
  const out: Violations = [];
  for (const b of resourcesOf(tree, ...PROJECT_LEVEL_IAM)) {
    if (b.type.endsWith('_policy')) {
      out.push(
        `${where(b)}: an authoritative IAM policy replaces every grant and cannot be checked`,
      );
      continue;
    }
    const role = stringAt(b.body, 'role') ?? '';
    if (/roles\/secretmanager\./.test(role)) {
      out.push(`${where(b)}: grants ${role} on the whole project; grant per secret instead`);
    }
    const custom = customRolePermissions(tree, b, role);
    if (!custom) {
      out.push(`${where(b)}: cannot resolve the permissions of ${role}`);
      continue;
    }
    for (const permissions of custom) {
      const wide = permissions.filter((p) => p.startsWith('secretmanager.') && p !== SECRETS_LIST);
      if (wide.length > 0) {
        out.push(`${where(b)}: project-level custom role carries ${wide.join(', ')}`);
      }
    }
  }
  return out;
}

/** Each function is triggered by a push subscription with retries and its own dead-letter topic. */
export function checkTriggersRetryAndDeadLetter(tree: TfTree): Violations {
  const out: Violations = [];
  const functions = resourcesOf(tree, 'google_cloudfunctions2_function');
  if (functions.length === 0) out.push('no google_cloudfunctions2_function found');
  const subscriptions = resourcesOf(tree, 'google_pubsub_subscription');
  const runtimeAccounts = functionAccounts(tree);
  const pubsubAgents = resourcesOf(tree, 'google_project_service_identity')
    .filter((a) => stringAt(a.body, 'service') === 'pubsub.googleapis.com')
    .map((a) => `${a.type}.${a.name}`);
  if (pubsubAgents.length === 0)
    out.push('no google_project_service_identity for pubsub.googleapis.com');
  const grantedToAgent = (types: string[], role: string, target: string) =>
    resourcesOf(tree, ...types).some(
      (g) =>
        stringAt(g.body, 'role') === role &&
        Object.values(g.body).some((v) => typeof v === 'string' && v.includes(target)) &&
        membersOf(g).some((m) => pubsubAgents.some((agent) => m.includes(agent))),
    );

  for (const trigger of resourcesOf(tree, 'google_eventarc_trigger')) {
    out.push(`${where(trigger)}: Eventarc's own subscription cannot get a dead-letter topic here`);
  }

  for (const fn of functions) {
    const fnAddress = `google_cloudfunctions2_function.${fn.name}`;
    if (firstBlock(fn.body, 'event_trigger')) {
      out.push(
        `${where(fn)}: event_trigger lets Eventarc own the subscription, which has no dead-letter topic`,
      );
    }
    const mine = subscriptions.filter((s) =>
      (stringAt(firstBlock(s.body, 'push_config'), 'push_endpoint') ?? '').includes(fnAddress),
    );
    if (mine.length === 0) out.push(`${where(fn)}: no push subscription triggers it`);

    for (const sub of mine) {
      const push = firstBlock(sub.body, 'push_config');
      const endpoint = stringAt(push, 'push_endpoint') ?? '';
      if (fn.body.for_each !== undefined) {
        if (
          sub.body.for_each !== fn.body.for_each ||
          !endpoint.includes(`${fnAddress}[each.key]`)
        ) {
          out.push(
            `${where(sub)}: must have one subscription per function (same for_each, [each.key])`,
          );
        }
      }
      const oidc = stringAt(firstBlock(push ?? {}, 'oidc_token'), 'service_account_email');
      if (!oidc) out.push(`${where(sub)}: push without an OIDC token`);
      else if (accountOf(sub, oidc).some((a) => runtimeAccounts.has(a))) {
        out.push(`${where(sub)}: pushes as a function's runtime account; use a separate invoker`);
      }

      const retry = firstBlock(sub.body, 'retry_policy');
      if (!stringAt(retry, 'minimum_backoff') || !stringAt(retry, 'maximum_backoff')) {
        out.push(`${where(sub)}: no retry_policy with minimum and maximum backoff`);
      }
      const expiry = firstBlock(sub.body, 'expiration_policy');
      if (stringAt(expiry, 'ttl') !== '') {
        out.push(`${where(sub)}: would expire after 31 idle days (set expiration_policy ttl = "")`);
      }

      const deadLetter = firstBlock(sub.body, 'dead_letter_policy');
      const dlTopicExpr = stringAt(deadLetter, 'dead_letter_topic') ?? '';
      const [dlTopic] = referencesTo(dlTopicExpr, 'google_pubsub_topic');
      if (!dlTopic) {
        out.push(`${where(sub)}: no dead_letter_policy with a dead-letter topic`);
        continue;
      }
      const dlBlock = resolveResource(tree, sub, dlTopic);
      if (
        sub.body.for_each !== undefined &&
        (dlBlock?.body.for_each !== sub.body.for_each || !dlTopicExpr.includes('[each.key]'))
      ) {
        out.push(
          `${where(sub)}: each trigger needs its own dead-letter topic (${dlTopic}[each.key])`,
        );
      }
      const attempts = deadLetter?.max_delivery_attempts;
      const attemptsVar = varName(attempts);
      const attemptsOk =
        typeof attempts === 'number'
          ? attempts >= 5 && attempts <= 100
          : attemptsVar !== undefined &&
            validatesAtLeast(tree, sub.dir, attemptsVar, attemptsVar, 5);
      if (!attemptsOk) out.push(`${where(sub)}: max_delivery_attempts must be a validated 5-100`);

      const holds = subscriptions.some((s) => (stringAt(s.body, 'topic') ?? '').includes(dlTopic));
      if (!holds)
        out.push(
          `${where(sub)}: nothing holds the dead letters of ${dlTopic} (add a subscription)`,
        );
      if (!grantedToAgent(TOPIC_IAM, 'roles/pubsub.publisher', dlTopic)) {
        out.push(`${where(sub)}: the Pub/Sub service agent cannot publish to ${dlTopic}`);
      }
      const subAddress = `google_pubsub_subscription.${sub.name}`;
      if (
        !grantedToAgent(
          ['google_pubsub_subscription_iam_member'],
          'roles/pubsub.subscriber',
          subAddress,
        )
      ) {
        out.push(`${where(sub)}: the Pub/Sub service agent cannot acknowledge on ${subAddress}`);
      }
    }
  }
  return out;
}

const MIN_ROTATION_PERIOD_SECONDS = 3600;

/** A secret labelled rotator = "managed" (a literal map, or the last entry of a merge). */
function isManagedSecret(s: TfBlock): boolean {
  const labels = s.body.labels;
  return isBody(labels)
    ? labels.rotator === 'managed'
    : /\brotator\s*=\s*"managed"/.test(String(labels ?? ''));
}

/** Managed secrets notify a topic and rotate at most hourly; the rotator's parts are left alone. */
export function checkManagedSecrets(tree: TfTree): Violations {
  const out: Violations = [];
  const managed = resourcesOf(tree, 'google_secret_manager_secret').filter(isManagedSecret);
  if (managed.length === 0)
    out.push('no google_secret_manager_secret labelled rotator = "managed"');

  for (const s of managed) {
    const labels = s.body.labels;
    if (typeof labels === 'string' && !/rotator\s*=\s*"managed"\s*\}\s*\)\s*\}$/.test(labels)) {
      out.push(
        `${where(s)}: rotator = "managed" must come last in the labels merge, so nothing overrides it`,
      );
    }
    if (!blocks(s.body, 'topics').some((t) => stringAt(t, 'name'))) {
      out.push(`${where(s)}: no topics: rotation needs a notification topic`);
    }
    const rotation = firstBlock(s.body, 'rotation');
    const period = stringAt(rotation, 'rotation_period') ?? '';
    if (!stringAt(rotation, 'next_rotation_time'))
      out.push(`${where(s)}: no rotation.next_rotation_time`);
    const literal = /^(\d+)s$/.exec(period);
    // `${each.value.X}s`, or the same left out when X is null (a secret with a cron schedule).
    const fromVariable =
      /^\$\{each\.value\.([A-Za-z0-9_]+)\}s$/.exec(period) ??
      /^\$\{each\.value\.([A-Za-z0-9_]+) == null \? null : "\$\{each\.value\.\1\}s"\}$/.exec(
        period,
      );
    const forEachVar = varName(s.body.for_each);
    if (literal?.[1] !== undefined) {
      if (Number(literal[1]) < MIN_ROTATION_PERIOD_SECONDS) {
        out.push(`${where(s)}: rotation_period ${period} is below ${MIN_ROTATION_PERIOD_SECONDS}s`);
      }
    } else if (fromVariable?.[1] && forEachVar) {
      if (
        !validatesAtLeast(tree, s.dir, forEachVar, fromVariable[1], MIN_ROTATION_PERIOD_SECONDS)
      ) {
        out.push(
          `${where(s)}: var.${forEachVar} does not validate ${fromVariable[1]} >= ${MIN_ROTATION_PERIOD_SECONDS}`,
        );
      }
    } else {
      out.push(`${where(s)}: rotation_period "${period}" cannot be checked`);
    }
    // hcl2json writes each ignore_changes entry as an interpolation: "${version_aliases}".
    const ignored = blocks(s.body, 'lifecycle').flatMap((l) =>
      Array.isArray(l.ignore_changes)
        ? l.ignore_changes.map((entry) => String(entry).replace(/^\$\{(.*)\}$/, '$1'))
        : [],
    );
    for (const owned of ['version_aliases', 'rotation[0].next_rotation_time']) {
      if (!ignored.includes(owned)) {
        out.push(
          `${where(s)}: must ignore_changes ${owned} (the rotator and Secret Manager change it)`,
        );
      }
    }
  }

  // The values the roots pass in: literal rotation periods must be at least an hour too.
  for (const root of tree.modules) {
    const source = stringAt(root.body, 'managed_secrets') ?? '';
    const local = /^\$\{local\.([A-Za-z0-9_]+)\}$/.exec(source)?.[1];
    const secrets = local ? tree.locals.get(root.dir)?.[local] : undefined;
    if (!isBody(secrets)) continue;
    for (const [id, secret] of Object.entries(secrets)) {
      const seconds = isBody(secret) ? secret.rotation_period_seconds : undefined;
      if (typeof seconds === 'number' && seconds < MIN_ROTATION_PERIOD_SECONDS) {
        out.push(
          `${root.file}: managed secret ${id} rotates every ${seconds}s, below ${MIN_ROTATION_PERIOD_SECONDS}s`,
        );
      }
    }
  }
  return out;
}

/**
 * The custom roles carry exactly the permissions the code's Secret Manager calls need: the role
 * granted per secret everything but secrets.list, the project-level one secrets.list alone.
 */
export function checkCustomRolesMatchCode(tree: TfTree, calls: readonly MethodCall[]): Violations {
  const out: Violations = [];
  for (const call of calls) {
    if (!(call.method in METHOD_PERMISSIONS)) {
      out.push(
        `${call.file}:${call.line}: calls ${call.method}, which has no permission mapping yet`,
      );
    }
  }
  const used = new Set(calls.flatMap((c) => METHOD_PERMISSIONS[c.method] ?? []));

  const secretRoles = resourcesOf(tree, ...SECRET_LEVEL_IAM).flatMap((b) =>
    referencesTo(stringAt(b.body, 'role') ?? '', 'google_project_iam_custom_role').map((a) =>
      resolveResource(tree, b, a),
    ),
  );
  const projectRoles = resourcesOf(tree, ...PROJECT_LEVEL_IAM).flatMap((b) =>
    referencesTo(stringAt(b.body, 'role') ?? '', 'google_project_iam_custom_role').map((a) =>
      resolveResource(tree, b, a),
    ),
  );
  if (secretRoles.length === 0) out.push('no custom role is granted on the managed secrets');

  // Whether the roles hold what each function's calls need is checked per function, against what
  // its entry point reaches (checkFunctionRolesMatchReach): the client wrapper has methods (e.g.
  // enableVersion) that no function calls.
  for (const role of resourcesOf(tree, 'google_project_iam_custom_role')) {
    const instances = customRoleInstances(tree, role);
    if (!instances) {
      out.push(`${where(role)}: cannot resolve its permissions`);
      continue;
    }
    for (const { label, permissions } of instances) {
      const sm = permissions.filter((p) => p.startsWith('secretmanager.'));
      for (const p of sm.filter((p) => !used.has(p))) {
        out.push(`${label}: grants ${p}, which no Secret Manager call in the code needs`);
      }
      if (secretRoles.includes(role) && sm.includes(SECRETS_LIST)) {
        out.push(`${label}: secrets.list means nothing on a secret`);
      }
      if (projectRoles.includes(role) && sm.some((p) => p !== SECRETS_LIST)) {
        out.push(`${label}: is granted on the project and carries more than ${SECRETS_LIST}`);
      }
    }
  }
  if (used.has(SECRETS_LIST)) {
    const listed = projectRoles.some(
      (r) => r && resolveStringList(tree, r.dir, r.body.permissions)?.includes(SECRETS_LIST),
    );
    if (!listed)
      out.push(`the code calls listSecrets but no project-level role grants ${SECRETS_LIST}`);
  }
  return out;
}

/**
 * A custom role's permissions: one list, or one per key when the role is made `for_each` over a
 * local map with `permissions = each.value` (one role per function). Undefined: unresolvable.
 */
export function customRoleInstances(
  tree: TfTree,
  role: TfBlock,
): { key?: string; label: string; permissions: string[] }[] | undefined {
  const forEach = typeof role.body.for_each === 'string' ? role.body.for_each : undefined;
  const local = forEach && /^\$\{local\.([A-Za-z0-9_]+)\}$/.exec(forEach)?.[1];
  if (local && /^\$\{each\.value\}$/.test(String(role.body.permissions))) {
    const map = tree.locals.get(role.dir)?.[local];
    if (!isBody(map)) return undefined;
    const out: { key: string; label: string; permissions: string[] }[] = [];
    for (const [key, value] of Object.entries(map)) {
      const permissions = resolveStringList(tree, role.dir, value);
      if (!permissions) return undefined;
      out.push({ key, label: `${where(role)}["${key}"]`, permissions });
    }
    return out;
  }
  const permissions = resolveStringList(tree, role.dir, role.body.permissions);
  return permissions ? [{ label: where(role), permissions }] : undefined;
}

/**
 * Least privilege per function: the role each function gets on the managed secrets is its own
 * (granted to that function's account only) and holds exactly the permissions of the Secret
 * Manager calls its entry point can reach (`reach`, from reachable-calls.ts); a role granted on
 * supporting secrets (admin, Databricks credentials) holds nothing that a grantee cannot reach.
 */
export function checkFunctionRolesMatchReach(
  tree: TfTree,
  reach: Readonly<Record<string, readonly string[]>>,
): Violations {
  const out: Violations = [];
  const functionsLocal = (dir: string) => tree.locals.get(dir)?.functions;
  for (const grant of resourcesOf(tree, ...SECRET_LEVEL_IAM)) {
    const role = stringAt(grant.body, 'role') ?? '';
    const members = membersOf(grant);
    for (const address of referencesTo(role, 'google_project_iam_custom_role')) {
      const roleBlock = resolveResource(tree, grant, address);
      if (!roleBlock) continue;
      const instances = customRoleInstances(tree, roleBlock) ?? [];
      // Which functions does this grant reach, by key?
      const fnKeys = Object.keys(
        isBody(functionsLocal(grant.dir)) ? (functionsLocal(grant.dir) as object) : {},
      );
      const granted = new Set<string>();
      for (const m of members) {
        for (const k of fnKeys) if (m.includes(`function["${k}"]`)) granted.add(k);
        if (/function\[each\.value\.function\]/.test(m)) {
          const forEach = JSON.stringify(grant.body.for_each ?? '');
          for (const k of fnKeys)
            if (forEach.includes(k) || forEach.includes('keys(local.functions)')) granted.add(k);
        }
        if (/function\[each\.key\]/.test(m)) for (const k of fnKeys) granted.add(k);
      }
      if (instances.some((i) => i.key !== undefined)) {
        // A per-function role: indexed by the same key as the member it is granted to.
        if (
          !/\[each\.value\.function\]/.test(role) ||
          !members.every((m) => /function\[each\.value\.function\]/.test(m))
        ) {
          out.push(
            `${where(grant)}: grants a per-function role without pairing it with that function's own account`,
          );
        }
        for (const k of fnKeys) {
          const mine = instances.find((i) => i.key === k);
          const want = (reach[k] ?? []).filter((p) => p !== SECRETS_LIST);
          if (!mine) {
            out.push(`${where(grant)}: no role for function ${k}`);
            continue;
          }
          const have = [...mine.permissions].sort();
          for (const p of want.filter((p) => !have.includes(p)))
            out.push(`${mine.label}: lacks ${p}, which ${k} calls`);
          for (const p of have.filter((p) => !want.includes(p)))
            out.push(`${mine.label}: grants ${p}, which ${k} never calls`);
        }
      } else {
        for (const k of granted) {
          for (const { label, permissions } of instances) {
            for (const p of permissions.filter((p) => !(reach[k] ?? []).includes(p))) {
              out.push(`${label}: grants ${p} to ${k}, which never calls it`);
            }
          }
        }
      }
    }
  }
  return out;
}

/** Every function runs as its own service account, and no other function shares it. */
export function checkOneServiceAccountPerFunction(tree: TfTree): Violations {
  const out: Violations = [];
  const seen = new Map<string, string>();
  for (const fn of resourcesOf(tree, 'google_cloudfunctions2_function')) {
    const email = stringAt(firstBlock(fn.body, 'service_config'), 'service_account_email') ?? '';
    const accounts = referencesTo(email, 'google_service_account');
    const [account] = accounts;
    if (accounts.length !== 1 || !account) {
      out.push(`${where(fn)}: must run as one service account of its own (service_account_email)`);
      continue;
    }
    const sa = resolveResource(tree, fn, account);
    if (fn.body.for_each !== undefined) {
      if (!email.includes(`${account}[each.key]`) || sa?.body.for_each !== fn.body.for_each) {
        out.push(
          `${where(fn)}: each instance needs its own account (${account}[each.key], same for_each)`,
        );
      }
      const local = /^\$\{local\.([A-Za-z0-9_]+)\}$/.exec(String(fn.body.for_each))?.[1];
      const entries = local ? tree.locals.get(fn.dir)?.[local] : undefined;
      const ids = isBody(entries)
        ? Object.values(entries).map((e) => (isBody(e) ? e.account_id : undefined))
        : [];
      if (
        ids.length === 0 ||
        new Set(ids).size !== ids.length ||
        ids.some((id) => typeof id !== 'string')
      ) {
        out.push(
          `${where(fn)}: the account_id of each function in local.${local} must be distinct`,
        );
      }
    }
    const key = `${fn.dir}:${account}`;
    const other = seen.get(key);
    if (other) out.push(`${where(fn)}: shares ${account} with ${other}`);
    seen.set(key, where(fn));
  }
  return out;
}

/** Data Access audit logs for Secret Manager. */
export function checkSecretManagerAuditConfig(tree: TfTree): Violations {
  const configs = resourcesOf(tree, 'google_project_iam_audit_config').filter(
    (c) => stringAt(c.body, 'service') === 'secretmanager.googleapis.com',
  );
  if (configs.length === 0)
    return ['no google_project_iam_audit_config for secretmanager.googleapis.com'];
  const out: Violations = [];
  for (const c of configs) {
    if (c.body.count !== undefined || c.body.for_each !== undefined) {
      out.push(`${where(c)}: must not be optional (count/for_each)`);
    }
    const types = blocks(c.body, 'audit_log_config').map((l) => stringAt(l, 'log_type'));
    for (const needed of ['ADMIN_READ', 'DATA_READ', 'DATA_WRITE']) {
      if (!types.includes(needed)) out.push(`${where(c)}: ${needed} is not logged`);
    }
  }
  return out;
}

/**
 * Function accounts may publish only to the topics their function publishes to, each grant
 * naming its function and topic explicitly. `publishes` maps function keys to topic keys.
 */
export function checkPublisherBindings(
  tree: TfTree,
  publishes: Readonly<Record<string, readonly string[]>>,
): Violations {
  const out: Violations = [];
  const runtimeAccounts = functionAccounts(tree);
  const found = new Set<string>();
  for (const b of resourcesOf(tree, ...TOPIC_IAM, ...PROJECT_LEVEL_IAM)) {
    const role = stringAt(b.body, 'role') ?? '';
    const canPublish =
      PUBLISH_ROLES.includes(role) ||
      (b.type.startsWith('google_project') && role.startsWith('roles/pubsub.'));
    if (!canPublish) continue;
    for (const member of membersOf(b)) {
      if (!accountOf(b, member).some((a) => runtimeAccounts.has(a))) continue;
      if (!b.type.startsWith('google_pubsub_topic')) {
        out.push(`${where(b)}: ${role} for a function account above topic level`);
        continue;
      }
      const fnKey = /google_service_account\.[A-Za-z0-9_]+\["([^"]+)"\]/.exec(member)?.[1];
      const topic = stringAt(b.body, 'topic') ?? '';
      const topicKey =
        /google_pubsub_topic\.[A-Za-z0-9_]+\["([^"]+)"\]/.exec(topic)?.[1] ??
        /google_pubsub_topic\.([A-Za-z0-9_]+)/.exec(topic)?.[1];
      if (!fnKey || !topicKey) {
        out.push(
          `${where(b)}: a function's publish grant must name its function and topic explicitly`,
        );
        continue;
      }
      if (!publishes[fnKey]?.includes(topicKey)) {
        out.push(`${where(b)}: ${fnKey} may not publish to ${topicKey}`);
      }
      found.add(`${fnKey}→${topicKey}`);
    }
  }
  for (const [fnKey, topics] of Object.entries(publishes)) {
    for (const topic of topics) {
      if (!found.has(`${fnKey}→${topic}`)) out.push(`${fnKey} must be able to publish to ${topic}`);
    }
  }
  return out;
}

/** Keyless, and no secret value in the Terraform state. */
export function checkNoKeysOrSecretValues(tree: TfTree): Violations {
  return resourcesOf(
    tree,
    'google_secret_manager_secret_version',
    'google_service_account_key',
  ).map((b) => `${where(b)}: would put a secret value or a key into the Terraform state`);
}

/**
 * The environments root (one for every environment): it calls the module once, with the
 * environment its tfvars names, and keeps its state in GCS through a partial backend (prefix from
 * ENV.gcs.tfbackend, bucket at init), so no file of it names a project or another environment's
 * state. The tfvars and backend files themselves: test/unit/terraform/roots.test.ts.
 */
export function checkEnvironmentsRoot(tree: TfTree, dir: string): Violations {
  const out: Violations = [];
  const uses = tree.modules.filter(
    (m) => m.dir === dir && /(^|\/)modules\/gsm-rotator$/.test(stringAt(m.body, 'source') ?? ''),
  );
  if (uses.length !== 1) out.push(`${dir}: must instantiate the gsm-rotator module once`);
  for (const m of uses) {
    if (varName(m.body.environment) !== 'environment') {
      out.push(`${dir}: environment must come from var.environment (the tfvars file)`);
    }
  }
  const backend = tree.settings
    .filter((s) => s.dir === dir)
    .map((s) => s.body.backend)
    .find(isBody);
  if (!backend || !Array.isArray(backend.gcs)) out.push(`${dir}: no backend "gcs" block`);
  else if (/"(prefix|bucket)"/.test(JSON.stringify(backend.gcs))) {
    out.push(`${dir}: the backend must be partial (prefix in ENV.gcs.tfbackend, bucket at init)`);
  }
  const nested = [...new Set(tree.files.map((f) => path.dirname(f)))].filter((d) =>
    d.startsWith(`${dir}/`),
  );
  for (const d of nested) out.push(`${d}: a second root; environments differ by tfvars only`);
  return out;
}

/** Entry points the terraform deploys, from the functions map in the module's locals. */
export function deployedEntryPoints(tree: TfTree): string[] {
  return resourcesOf(tree, 'google_cloudfunctions2_function').flatMap((fn) => {
    const entry = stringAt(firstBlock(fn.body, 'build_config'), 'entry_point') ?? '';
    if (!entry.startsWith('${')) return [entry];
    const local = /^\$\{local\.([A-Za-z0-9_]+)\}$/.exec(String(fn.body.for_each))?.[1];
    const entries = local ? tree.locals.get(fn.dir)?.[local] : undefined;
    return isBody(entries)
      ? Object.values(entries).flatMap((e: unknown) =>
          isBody(e) && typeof e.entry_point === 'string' ? [e.entry_point] : [],
        )
      : [];
  });
}

/** Roles that read a secret's value: the predefined ones, by name. */
const VALUE_READING_ROLES = [
  'roles/secretmanager.secretAccessor',
  'roles/secretmanager.admin',
  'roles/secretmanager.secretVersionManager',
];

/**
 * Consumers' read access (managed_secrets.*.readers): a value-reading predefined role is granted
 * only per secret, only on a managed secret (never an admin or Databricks credential secret), only
 * as secretAccessor, and only to the principals a managed secret's `readers` lists, which the
 * variable validates (one principal each, no domain or public member).
 */
export function checkSecretReaders(tree: TfTree): Violations {
  const out: Violations = [];
  const managed = new Set(
    resourcesOf(tree, 'google_secret_manager_secret')
      .filter(isManagedSecret)
      .map((s) => `${s.dir}:google_secret_manager_secret.${s.name}`),
  );
  const readerGrants = resourcesOf(tree, ...SECRET_LEVEL_IAM).filter((b) =>
    VALUE_READING_ROLES.includes(stringAt(b.body, 'role') ?? ''),
  );
  for (const b of readerGrants) {
    const role = stringAt(b.body, 'role');
    if (role !== 'roles/secretmanager.secretAccessor') {
      out.push(`${where(b)}: ${role} carries more than reading the value; grant secretAccessor`);
    }
    const secrets = referencesTo(
      stringAt(b.body, 'secret_id') ?? '',
      'google_secret_manager_secret',
    );
    if (secrets.length !== 1 || !managed.has(`${b.dir}:${secrets[0]}`)) {
      out.push(
        `${where(b)}: a consumer may read a managed secret only, not ${secrets.join(', ') || 'this'}`,
      );
    }
    const forEach = stringAt(b.body, 'for_each') ?? '';
    const local = /^\$\{local\.([A-Za-z0-9_]+)\}$/.exec(forEach)?.[1];
    const source = local ? JSON.stringify(tree.locals.get(b.dir)?.[local] ?? '') : forEach;
    if (!/var\.managed_secrets/.test(source) || !/\.readers\b/.test(source)) {
      out.push(`${where(b)}: must be made for each principal of managed_secrets.*.readers`);
    }
  }
  for (const dir of new Set(readerGrants.map((b) => b.dir))) {
    const variable = tree.variables.find((v) => v.dir === dir && v.name === 'managed_secrets');
    const validated = blocks(variable?.body ?? {}, 'validation').some((v) => {
      const condition = stringAt(v, 'condition') ?? '';
      return /\.readers\b/.test(condition) && /serviceAccount/.test(condition);
    });
    if (!validated) out.push('var.managed_secrets does not validate the principals of readers');
  }
  return out;
}

/**
 * The Secret Manager permissions of the predefined roles the module grants to people, from
 * Google's IAM roles reference (cloud.google.com/iam/docs/roles-permissions/secretmanager).
 */
const PREDEFINED_SECRET_MANAGER_PERMISSIONS: Readonly<Record<string, readonly string[]>> = {
  'roles/secretmanager.viewer': [
    'secretmanager.locations.get',
    'secretmanager.locations.list',
    'secretmanager.secrets.get',
    'secretmanager.secrets.getIamPolicy',
    'secretmanager.secrets.list',
    'secretmanager.versions.get',
    'secretmanager.versions.list',
  ],
  'roles/secretmanager.secretAccessor': ['secretmanager.versions.access'],
  'roles/pubsub.publisher': [],
};

/**
 * The Secret Manager permissions terraform gives var.operator_members (sorted): every IAM grant
 * made for each operator, predefined roles by the table above, custom roles resolved.
 */
export function operatorPermissions(tree: TfTree): string[] {
  const out = new Set<string>();
  for (const b of resourcesOf(tree, ...SECRET_LEVEL_IAM, ...PROJECT_LEVEL_IAM, ...TOPIC_IAM)) {
    if (!JSON.stringify(b.body.for_each ?? '').includes('var.operator_members')) continue;
    const role = stringAt(b.body, 'role') ?? '';
    const predefined = PREDEFINED_SECRET_MANAGER_PERMISSIONS[role];
    const custom = customRolePermissions(tree, b, role);
    if (predefined) for (const p of predefined) out.add(p);
    else if (custom && custom.length > 0) for (const p of custom.flat()) out.add(p);
    else out.add(`unknown-role:${role}`);
  }
  return [...out].filter((p) => p.startsWith('secretmanager.') || p.startsWith('unknown')).sort();
}
