import { alreadyExists, invalidArgument } from './errors';
import type { Rotation, SecretInput, StoredSecret } from './model';
import { type ParentRef, type SecretRef, secretNameOf } from './names';
import { canonicalMask } from './resources';
import type { Change, SecretTable } from './secret-table';
import { addDuration, type Instant, instantFromMs } from './time';
import {
  parseAliasTargets,
  validateAliases,
  validateAnnotations,
  validateDestroyTtl,
  validateExpireTime,
  validateLabels,
  validateReplication,
  validateRotation,
  validateSecretId,
  validateTopics,
} from './validation';

/** Creating, updating and deleting secrets, with every rule Secret Manager applies to them. */

/** The checks that come before topics are published to: a valid, unused id. */
export function assertCreatable(
  table: SecretTable,
  parent: ParentRef,
  secretId: string | undefined,
): void {
  const name = secretNameOf(parent, validateSecretId(secretId));
  if (table.secrets.has(name)) throw alreadyExists(`Secret [${name}] already exists.`);
}

/** The checks that come before topics are published to: the secret exists, the etag is fresh. */
export function assertUpdatable(
  table: SecretTable,
  ref: SecretRef,
  etag: string | undefined,
): void {
  table.checkEtag(table.getSecret(ref).etag, etag);
}

export function createSecret(
  table: SecretTable,
  parent: ParentRef,
  secretId: string | undefined,
  input: SecretInput,
): Change<StoredSecret> {
  assertCreatable(table, parent, secretId);
  const name = secretNameOf(parent, secretId ?? '');
  const regional = parent.location !== undefined;
  validateReplication(input.replication, regional);
  validateLabels(input.labels);
  validateAnnotations(input.annotations);
  validateAliases(parseAliasTargets(input.versionAliases), 0);
  validateTopics(input.topics);
  const now = table.now;
  const expireTime = expireTimeOf(table, input, now);
  if (input.versionDestroyTtl) validateDestroyTtl(input.versionDestroyTtl, table.options.limits);
  const rotation = normalizeRotation(input.rotation);
  validateRotation({
    rotation,
    topics: input.topics,
    nextSent: rotation?.nextRotationTime !== undefined,
    periodSent: rotation?.rotationPeriod !== undefined,
    nowMs: now,
    limits: table.options.limits,
  });
  const secret: StoredSecret = {
    name,
    project: parent.project,
    ...(parent.location ? { location: parent.location } : {}),
    createTime: instantFromMs(now),
    etag: table.options.etags.next(),
    ...(input.replication ? { replication: input.replication } : {}),
    labels: input.labels,
    annotations: input.annotations,
    topics: input.topics,
    ...(expireTime ? { expireTime } : {}),
    ...(rotation ? { rotation } : {}),
    versionAliases: {},
    ...(input.versionDestroyTtl ? { versionDestroyTtl: input.versionDestroyTtl } : {}),
    ...(input.customerManagedEncryption
      ? { customerManagedEncryption: input.customerManagedEncryption }
      : {}),
    ...(input.secretType ? { secretType: input.secretType } : {}),
    versions: [],
  };
  table.secrets.set(name, secret);
  table.recordPointers(secret);
  return { result: secret, events: [table.secretEvent('SECRET_CREATE', secret)] };
}

/**
 * AIP-134 update: each mask path replaces its field from `input` (absent means cleared), then
 * the whole result is judged. An empty mask changes only the etag, as in production.
 */
export function updateSecret(
  table: SecretTable,
  ref: SecretRef,
  input: SecretInput,
  maskPaths: string[] | undefined,
): Change<StoredSecret> {
  if (maskPaths === undefined) throw invalidArgument('Field [update_mask] is required.');
  const secret = table.getSecret(ref);
  table.checkEtag(secret.etag, input.etag);
  const now = table.now;
  const draft = {
    labels: secret.labels,
    annotations: secret.annotations,
    topics: secret.topics,
    versionAliases: secret.versionAliases,
    expireTime: secret.expireTime,
    rotation: secret.rotation,
    versionDestroyTtl: secret.versionDestroyTtl,
    customerManagedEncryption: secret.customerManagedEncryption,
  };
  let nextSent = false;
  let periodSent = false;
  for (const path of canonicalMask(maskPaths)) {
    switch (path) {
      case 'labels':
        draft.labels = input.labels;
        break;
      case 'annotations':
        draft.annotations = input.annotations;
        break;
      case 'version_aliases':
        draft.versionAliases = parseAliasTargets(input.versionAliases);
        break;
      case 'topics':
        draft.topics = input.topics;
        break;
      case 'rotation':
        draft.rotation = input.rotation;
        nextSent = input.rotation?.nextRotationTime !== undefined;
        periodSent = input.rotation?.rotationPeriod !== undefined;
        break;
      case 'rotation.next_rotation_time':
        draft.rotation = { ...draft.rotation };
        delete draft.rotation.nextRotationTime;
        if (input.rotation?.nextRotationTime) {
          draft.rotation.nextRotationTime = input.rotation.nextRotationTime;
          nextSent = true;
        }
        break;
      case 'rotation.rotation_period':
        draft.rotation = { ...draft.rotation };
        delete draft.rotation.rotationPeriod;
        if (input.rotation?.rotationPeriod) {
          draft.rotation.rotationPeriod = input.rotation.rotationPeriod;
          periodSent = true;
        }
        break;
      case 'expiration':
        draft.expireTime = expireTimeOf(table, input, now);
        break;
      case 'version_destroy_ttl':
        if (input.versionDestroyTtl) {
          validateDestroyTtl(input.versionDestroyTtl, table.options.limits);
        }
        draft.versionDestroyTtl = input.versionDestroyTtl;
        break;
      case 'customer_managed_encryption':
        draft.customerManagedEncryption = input.customerManagedEncryption;
        break;
      case 'replication':
        checkReplicationUnchanged(secret, input);
        break;
      case 'ignored':
        break;
      case 'immutable:secret_type':
      case 'immutable:policy_member':
        throw invalidArgument(
          `Field '${path.slice('immutable:'.length)}' is immutable and cannot be updated.`,
        );
    }
  }
  const rotation = normalizeRotation(draft.rotation);
  validateLabels(draft.labels);
  validateAnnotations(draft.annotations);
  validateAliases(draft.versionAliases, secret.versions.length);
  validateTopics(draft.topics);
  validateRotation({
    rotation,
    topics: draft.topics,
    nextSent,
    periodSent,
    nowMs: now,
    limits: table.options.limits,
  });

  const aliasesChanged = draft.versionAliases !== secret.versionAliases;
  secret.labels = draft.labels;
  secret.annotations = draft.annotations;
  secret.topics = draft.topics;
  secret.versionAliases = draft.versionAliases;
  assignOptional(secret, 'expireTime', draft.expireTime);
  assignOptional(secret, 'rotation', rotation);
  assignOptional(secret, 'versionDestroyTtl', draft.versionDestroyTtl);
  assignOptional(secret, 'customerManagedEncryption', draft.customerManagedEncryption);
  secret.etag = table.options.etags.next();
  if (aliasesChanged) table.recordPointers(secret);
  return { result: secret, events: [table.secretEvent('SECRET_UPDATE', secret)] };
}

export function deleteSecret(
  table: SecretTable,
  ref: SecretRef,
  etag: string | undefined,
): Change<void> {
  const secret = table.getSecret(ref);
  table.checkEtag(secret.etag, etag);
  return { result: undefined, events: [table.remove(secret, 'REQUESTED')] };
}

function checkReplicationUnchanged(secret: StoredSecret, input: SecretInput): void {
  if (!secret.replication) {
    throw invalidArgument(
      'Field mask paths starting with "replication" are not supported in updates of regional secret.',
    );
  }
  if (JSON.stringify(input.replication) !== JSON.stringify(secret.replication)) {
    const kind = 'automatic' in secret.replication ? 'automatic' : 'user-managed';
    throw invalidArgument(
      `Existing secret has ${kind} replication, but requested secret does not. Updating secret replication is not supported.`,
    );
  }
}

function expireTimeOf(table: SecretTable, input: SecretInput, now: number): Instant | undefined {
  if (!input.expiration) return undefined;
  const at =
    'ttl' in input.expiration
      ? addDuration(instantFromMs(now), input.expiration.ttl)
      : input.expiration.expireTime;
  validateExpireTime(at, now, table.options.limits);
  return at;
}

function normalizeRotation(rotation: Rotation | undefined): Rotation | undefined {
  if (!rotation || (!rotation.nextRotationTime && !rotation.rotationPeriod)) return undefined;
  return rotation;
}

function assignOptional<K extends keyof StoredSecret>(
  secret: StoredSecret,
  key: K,
  value: StoredSecret[K] | undefined,
): void {
  if (value === undefined) delete secret[key];
  else secret[key] = value;
}
