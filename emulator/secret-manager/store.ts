import { status } from '@grpc/grpc-js';
import type { Clock } from '../../shared/clock';
import type { DelayedPointers, PointerSnapshot } from './consistency';
import {
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  SmError,
  secretNotFound,
  secretNotFoundOrEmpty,
  staleEtag,
  versionNotFound,
} from './errors';
import type { EtagSource } from './etag';
import type { DeleteType, EventType, SecretEvent } from './events';
import type { IamPolicy, Rotation, SecretInput, StoredSecret, StoredVersion } from './model';
import {
  type ParentRef,
  parentOf,
  type SecretRef,
  secretNameOf,
  VERSION_NUMBER,
  type VersionRef,
  versionNameOf,
} from './names';
import { canonicalMask, secretJson, versionJson } from './resources';
import { addDuration, type Instant, instantFromMs, instantToMs } from './time';
import {
  type Limits,
  parseAliasTargets,
  validateAliases,
  validateAnnotations,
  validateDestroyTtl,
  validateExpireTime,
  validateLabels,
  validatePayload,
  validateReplication,
  validateRotation,
  validateSecretId,
  validateTopics,
} from './validation';

export interface StoreOptions {
  clock: Clock;
  limits: Limits;
  etags: EtagSource;
  /** Present when alias and `latest` reads lag behind writes. */
  pointers?: DelayedPointers;
}

export interface Change<T> {
  result: T;
  events: SecretEvent[];
}

/**
 * All secrets and versions, and every rule about changing them. Operations are synchronous, so
 * each one is atomic with respect to concurrent RPCs; they return the changed resource and the
 * events to announce, captured at the moment of the change.
 */
export class SecretStore {
  private readonly secrets = new Map<string, StoredSecret>();

  constructor(private readonly options: StoreOptions) {}

  private get now(): number {
    return this.options.clock.now();
  }

  // Secrets

  listSecrets(parent: ParentRef): StoredSecret[] {
    return [...this.secrets.values()]
      .filter((s) => parentOf(s) === parent.name)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  getSecret(ref: SecretRef): StoredSecret {
    const secret = this.secrets.get(ref.name);
    if (!secret) throw secretNotFound(ref.name);
    return secret;
  }

  /** The checks that come before topics are published to: a valid, unused id. */
  assertCreatable(parent: ParentRef, secretId: string | undefined): void {
    const name = secretNameOf(parent, validateSecretId(secretId));
    if (this.secrets.has(name)) throw alreadyExists(`Secret [${name}] already exists.`);
  }

  /** The checks that come before topics are published to: the secret exists, the etag is fresh. */
  assertUpdatable(ref: SecretRef, etag: string | undefined): void {
    this.checkEtag(this.getSecret(ref).etag, etag);
  }

  createSecret(
    parent: ParentRef,
    secretId: string | undefined,
    input: SecretInput,
  ): Change<StoredSecret> {
    this.assertCreatable(parent, secretId);
    const name = secretNameOf(parent, secretId ?? '');
    const regional = parent.location !== undefined;
    validateReplication(input.replication, regional);
    validateLabels(input.labels);
    validateAnnotations(input.annotations);
    validateAliases(parseAliasTargets(input.versionAliases), 0);
    validateTopics(input.topics);
    const now = this.now;
    const expireTime = this.expireTimeOf(input, now);
    if (input.versionDestroyTtl) validateDestroyTtl(input.versionDestroyTtl, this.options.limits);
    const rotation = normalizeRotation(input.rotation);
    validateRotation({
      rotation,
      topics: input.topics,
      nextSent: rotation?.nextRotationTime !== undefined,
      periodSent: rotation?.rotationPeriod !== undefined,
      nowMs: now,
      limits: this.options.limits,
    });
    const secret: StoredSecret = {
      name,
      project: parent.project,
      ...(parent.location ? { location: parent.location } : {}),
      createTime: instantFromMs(now),
      etag: this.options.etags.next(),
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
    this.secrets.set(name, secret);
    this.recordPointers(secret);
    return { result: secret, events: [this.secretEvent('SECRET_CREATE', secret)] };
  }

  /**
   * AIP-134 update: each mask path replaces its field from `input` (absent means cleared), then
   * the whole result is judged. An empty mask changes only the etag, as in production.
   */
  updateSecret(
    ref: SecretRef,
    input: SecretInput,
    maskPaths: string[] | undefined,
  ): Change<StoredSecret> {
    if (maskPaths === undefined) throw invalidArgument('Field [update_mask] is required.');
    const secret = this.getSecret(ref);
    this.checkEtag(secret.etag, input.etag);
    const now = this.now;
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
          draft.expireTime = this.expireTimeOf(input, now);
          break;
        case 'version_destroy_ttl':
          if (input.versionDestroyTtl) {
            validateDestroyTtl(input.versionDestroyTtl, this.options.limits);
          }
          draft.versionDestroyTtl = input.versionDestroyTtl;
          break;
        case 'customer_managed_encryption':
          draft.customerManagedEncryption = input.customerManagedEncryption;
          break;
        case 'replication':
          this.checkReplicationUnchanged(secret, input);
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
      limits: this.options.limits,
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
    secret.etag = this.options.etags.next();
    if (aliasesChanged) this.recordPointers(secret);
    return { result: secret, events: [this.secretEvent('SECRET_UPDATE', secret)] };
  }

  deleteSecret(ref: SecretRef, etag: string | undefined): Change<void> {
    const secret = this.getSecret(ref);
    this.checkEtag(secret.etag, etag);
    return { result: undefined, events: [this.remove(secret, 'REQUESTED')] };
  }

  // Versions

  addVersion(
    ref: SecretRef,
    data: Buffer,
    claimedCrc32c: string | undefined,
  ): Change<StoredVersion> {
    const secret = this.getSecret(ref);
    validatePayload(data, claimedCrc32c);
    const version: StoredVersion = {
      number: secret.versions.length + 1,
      createTime: instantFromMs(this.now),
      state: 'ENABLED',
      etag: this.options.etags.next(),
      clientSpecifiedPayloadChecksum: claimedCrc32c !== undefined,
      payload: Buffer.from(data),
    };
    secret.versions.push(version);
    this.recordPointers(secret);
    return {
      result: version,
      events: [this.versionEvent('SECRET_VERSION_ADD', secret, version)],
    };
  }

  /** Newest first. */
  listVersions(ref: SecretRef): StoredVersion[] {
    return [...this.getSecret(ref).versions].reverse();
  }

  /** A version by number (immediate), or by `latest` or alias (possibly lagging). */
  getVersion(ref: VersionRef): { secret: StoredSecret; version: StoredVersion } {
    const secret = this.secrets.get(ref.secret.name);
    if (!secret) throw secretNotFoundOrEmpty(ref.secret.name);
    const number = this.resolveNumber(secret, ref);
    const version = secret.versions[number - 1];
    if (!version) throw versionNotFound(ref.name);
    return { secret, version };
  }

  /** The payload of an ENABLED version; anything else is FAILED_PRECONDITION. */
  accessVersion(ref: VersionRef): {
    secret: StoredSecret;
    version: StoredVersion;
    payload: Buffer;
  } {
    const { secret, version } = this.getVersion(ref);
    if (version.state !== 'ENABLED' || !version.payload) {
      throw failedPrecondition(
        `Secret Version [${versionNameOf(secret.name, version.number)}] is in ${version.state} state.`,
      );
    }
    return { secret, version, payload: version.payload };
  }

  enableVersion(ref: VersionRef, etag: string | undefined): Change<StoredVersion> {
    return this.changeVersion(ref, etag, (_secret, version) => {
      version.state = 'ENABLED';
      delete version.scheduledDestroyTime;
      return 'SECRET_VERSION_ENABLE';
    });
  }

  disableVersion(ref: VersionRef, etag: string | undefined): Change<StoredVersion> {
    return this.changeVersion(ref, etag, (_secret, version) => {
      version.state = 'DISABLED';
      delete version.scheduledDestroyTime;
      return 'SECRET_VERSION_DISABLE';
    });
  }

  /** Immediate, or with the secret's version_destroy_ttl: DISABLED now, DESTROYED later. */
  destroyVersion(ref: VersionRef, etag: string | undefined): Change<StoredVersion> {
    return this.changeVersion(ref, etag, (secret, version) => {
      if (version.scheduledDestroyTime) {
        throw failedPrecondition('SecretVersion is already scheduled for DESTRUCTION.');
      }
      if (secret.versionDestroyTtl) {
        version.state = 'DISABLED';
        version.scheduledDestroyTime = addDuration(
          instantFromMs(this.now),
          secret.versionDestroyTtl,
        );
        return 'SECRET_VERSION_DESTROY_SCHEDULED';
      }
      this.destroyNow(version);
      return 'SECRET_VERSION_DESTROY';
    });
  }

  // Time-driven changes

  /**
   * Everything that comes due by the clock: expired secrets are deleted, scheduled destructions
   * happen, and due rotations send SECRET_ROTATE after next_rotation_time moved on by the period
   * (production's SECRET_ROTATE already carries the advanced time); a rotation without a period is
   * removed once it fired ("Without a period it happens once and is then gone from the secret",
   * measured in production by github.com/kmoneil/zig-gcp docs/secret-manager/notifications.md).
   * Each of these moves the resource's etag.
   */
  processDue(): SecretEvent[] {
    const now = this.now;
    const events: SecretEvent[] = [];
    for (const secret of [...this.secrets.values()]) {
      if (secret.expireTime && instantToMs(secret.expireTime) <= now) {
        events.push(this.remove(secret, 'EXPIRATION'));
        continue;
      }
      for (const version of secret.versions) {
        if (version.scheduledDestroyTime && instantToMs(version.scheduledDestroyTime) <= now) {
          this.destroyNow(version);
          version.etag = this.options.etags.next();
          events.push(this.versionEvent('SECRET_VERSION_DESTROY', secret, version));
        }
      }
      const next = secret.rotation?.nextRotationTime;
      if (secret.rotation && next && instantToMs(next) <= now) {
        const period = secret.rotation.rotationPeriod;
        if (period) {
          // After downtime, skip the missed periods: one event, the next time in the future.
          const periodMs = period.seconds * 1000 + period.nanos / 1e6;
          const steps = Math.floor((now - instantToMs(next)) / periodMs) + 1;
          secret.rotation.nextRotationTime = addDuration(next, period, steps);
        } else {
          delete secret.rotation;
        }
        secret.etag = this.options.etags.next();
        events.push(this.secretEvent('SECRET_ROTATE', secret));
      }
    }
    return events;
  }

  // IAM: kept and returned, never enforced (the emulator has no identities).

  getIamPolicy(ref: SecretRef): IamPolicy {
    return this.getSecret(ref).iamPolicy ?? { etag: EMPTY_POLICY_ETAG };
  }

  setIamPolicy(ref: SecretRef, policy: Omit<IamPolicy, 'etag'> & { etag?: string }): IamPolicy {
    const secret = this.getSecret(ref);
    const current = secret.iamPolicy?.etag ?? EMPTY_POLICY_ETAG;
    if (policy.etag && policy.etag !== current) {
      throw new SmError(
        status.ABORTED,
        'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.',
      );
    }
    const etag = Buffer.from(this.options.etags.next()).toString('base64');
    secret.iamPolicy = {
      ...(policy.version ? { version: policy.version } : {}),
      bindings: policy.bindings ?? [],
      ...(policy.auditConfigs?.length ? { auditConfigs: policy.auditConfigs } : {}),
      etag,
    };
    return secret.iamPolicy;
  }

  /** Fails open, as the API documents: every permission asked about, or none for no secret. */
  testIamPermissions(ref: SecretRef, permissions: string[]): string[] {
    return this.secrets.has(ref.name) ? permissions : [];
  }

  // Persistence

  allSecrets(): StoredSecret[] {
    return [...this.secrets.values()];
  }

  load(secrets: StoredSecret[]): void {
    this.secrets.clear();
    for (const secret of secrets) {
      this.secrets.set(secret.name, secret);
      this.recordPointers(secret);
    }
  }

  // Internals

  private changeVersion(
    ref: VersionRef,
    etag: string | undefined,
    apply: (secret: StoredSecret, version: StoredVersion) => EventType,
  ): Change<StoredVersion> {
    const secret = this.getSecret(ref.secret);
    if (!VERSION_NUMBER.test(ref.version)) {
      throw invalidArgument(
        `The provided Secret Version ID [${ref.name}] does not match the expected format [projects/*/secrets/*/versions/*]`,
      );
    }
    const version = secret.versions[Number(ref.version) - 1];
    if (!version) throw versionNotFound(ref.name);
    this.checkEtag(version.etag, etag);
    if (version.state === 'DESTROYED') {
      throw failedPrecondition('SecretVersion.state is already DESTROYED');
    }
    const eventType = apply(secret, version);
    version.etag = this.options.etags.next();
    return { result: version, events: [this.versionEvent(eventType, secret, version)] };
  }

  private resolveNumber(secret: StoredSecret, ref: VersionRef): number {
    if (VERSION_NUMBER.test(ref.version)) {
      const n = Number(ref.version);
      if (n < 1 || n > secret.versions.length) throw versionNotFound(ref.name);
      return n;
    }
    const seen = this.pointersSeen(secret);
    if (ref.version === 'latest') {
      if (!seen || seen.latest === 0) throw secretNotFoundOrEmpty(secret.name);
      return seen.latest;
    }
    const target = seen?.aliases[ref.version];
    if (target === undefined) {
      throw new SmError(status.NOT_FOUND, `Secret [${secret.name}] has no alias [${ref.version}]`);
    }
    return target;
  }

  private pointersSeen(secret: StoredSecret): PointerSnapshot | undefined {
    const pointers = this.options.pointers;
    if (!pointers) return snapshotOf(secret);
    return pointers.lookup(secret.name, this.now);
  }

  private recordPointers(secret: StoredSecret): void {
    this.options.pointers?.record(secret.name, snapshotOf(secret), this.now);
  }

  private remove(secret: StoredSecret, deleteType: DeleteType): SecretEvent {
    this.secrets.delete(secret.name);
    this.options.pointers?.forget(secret.name);
    return { ...this.secretEvent('SECRET_DELETE', secret), deleteType };
  }

  private destroyNow(version: StoredVersion): void {
    version.state = 'DESTROYED';
    version.destroyTime = instantFromMs(this.now);
    delete version.scheduledDestroyTime;
    delete version.payload;
  }

  private checkEtag(current: string, sent: string | undefined): void {
    // An empty etag means "no condition", as in production.
    if (sent && sent !== current) throw staleEtag();
  }

  private checkReplicationUnchanged(secret: StoredSecret, input: SecretInput): void {
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

  private expireTimeOf(input: SecretInput, now: number): Instant | undefined {
    if (!input.expiration) return undefined;
    const at =
      'ttl' in input.expiration
        ? addDuration(instantFromMs(now), input.expiration.ttl)
        : input.expiration.expireTime;
    validateExpireTime(at, now, this.options.limits);
    return at;
  }

  private secretEvent(eventType: EventType, secret: StoredSecret): SecretEvent {
    return {
      eventType,
      secretName: secret.name,
      topics: [...secret.topics],
      data: secretJson(secret),
      at: this.now,
    };
  }

  private versionEvent(
    eventType: EventType,
    secret: StoredSecret,
    version: StoredVersion,
  ): SecretEvent {
    return {
      eventType,
      secretName: secret.name,
      versionName: versionNameOf(secret.name, version.number),
      topics: [...secret.topics],
      data: versionJson(secret, version),
      at: this.now,
    };
  }
}

/** The etag of a policy never set: production answers `ACAB` (base64). */
const EMPTY_POLICY_ETAG = 'ACAB';

const snapshotOf = (secret: StoredSecret): PointerSnapshot => ({
  aliases: secret.versionAliases,
  latest: secret.versions.length,
});

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
