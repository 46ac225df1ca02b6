import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { z } from 'zod';
import { ConflictError, PermanentError, ThrottledError, TransientError } from '../errors';
import type { Redactor } from '../logging/redactor';

type SmClient = SecretManagerServiceClient;

/** The parts of a Secret the rotator reads, in plain types (gax gives int64 as strings). */
export interface SecretSnapshot {
  name: string;
  etag: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  aliases: Record<string, number>;
  topics: string[];
  /** Next scheduled rotation and its period, when the Secret has a rotation schedule. */
  rotation?: { nextRotationTime?: number; periodMs?: number };
  createTime?: number;
}

export const VERSION_STATES = ['ENABLED', 'DISABLED', 'DESTROYED'] as const;
export type VersionState = (typeof VERSION_STATES)[number];

export interface VersionInfo {
  number: number;
  state: VersionState;
  createTime: number;
  etag: string;
}

export interface SecretChange {
  annotations?: Record<string, string>;
  aliases?: Record<string, number>;
  /**
   * The whole rotation schedule becomes this: a next time and no period (update mask `rotation`,
   * which replaces the message, so a stray rotation_period is dropped too). Secret Manager wants
   * the time at least 300 s ahead and topics on the secret (shared/schedule/sync.ts checks both).
   */
  rotation?: { nextRotationTime: number };
}

/** Secret Manager as the rotator uses it: a narrow, typed surface with classified errors. */
export interface SecretStore {
  getSecret(name: string): Promise<SecretSnapshot>;
  listSecrets(parent: string, filter: string): Promise<SecretSnapshot[]>;
  /** Compare-and-swap on `snapshot.etag`; a concurrent change throws ConflictError. */
  updateSecret(snapshot: SecretSnapshot, change: SecretChange): Promise<SecretSnapshot>;
  addVersion(secret: string, data: string): Promise<number>;
  /** By number (strongly consistent) or by alias; never use `latest` for rotator logic. */
  accessVersion(secret: string, version: number | string): Promise<string>;
  /** Newest first. */
  listVersions(secret: string): Promise<VersionInfo[]>;
  disableVersion(secret: string, version: number, etag?: string): Promise<void>;
  enableVersion(secret: string, version: number, etag?: string): Promise<void>;
  destroyVersion(secret: string, version: number, etag?: string): Promise<void>;
}

// gRPC status codes, as numbers on the errors gax throws.
const GRPC = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export class SecretNotFoundError extends PermanentError {
  constructor(message: string, options?: ConstructorParameters<typeof PermanentError>[1]) {
    super(message, options);
    this.name = 'SecretNotFoundError';
  }
}

/** Access to a DISABLED or DESTROYED version. */
export class VersionNotEnabledError extends PermanentError {
  constructor(message: string, options?: ConstructorParameters<typeof PermanentError>[1]) {
    super(message, options);
    this.name = 'VersionNotEnabledError';
  }
}

/**
 * PERMISSION_DENIED. Right after a terraform apply the grant may simply not have propagated yet
 * (IAM changes take effect "typically within 2 minutes, can take 7 minutes or longer", IAM docs),
 * so this is transient here; the caller decides when waiting has lasted long enough
 * (functions/rotate-secret.ts: IAM_PROPAGATION_MS) and reports it as permanent, naming
 * `permission` (parsed from the server's message, e.g. `secretmanager.versions.access`).
 */
export class PermissionDeniedError extends TransientError {
  readonly permission: string | undefined;
  readonly target: string;

  constructor(
    message: string,
    target: string,
    options?: ConstructorParameters<typeof TransientError>[1],
  ) {
    super(message, options);
    this.name = 'PermissionDeniedError';
    this.target = target;
    this.permission = /Permission '([a-z]+(?:\.[A-Za-z]+)+)'/.exec(message)?.[1];
  }
}

/**
 * Map a gax error to our family. FAILED_PRECONDITION means an etag mismatch on writes and a
 * non-enabled version on access; the caller says which it is.
 */
function classify(err: unknown, op: string, target: string, onPrecondition: 'conflict' | 'state') {
  const code = (err as { code?: unknown }).code;
  const detail = (err as { details?: unknown }).details;
  const message = `${op} ${target}: ${typeof detail === 'string' && detail ? detail : (err as Error).message}`;
  const options = { cause: err, context: { op, target, grpcCode: Number(code) } };
  switch (code) {
    case GRPC.NOT_FOUND:
      return new SecretNotFoundError(message, options);
    case GRPC.FAILED_PRECONDITION:
      return onPrecondition === 'conflict'
        ? new ConflictError(message, options)
        : new VersionNotEnabledError(message, options);
    case GRPC.PERMISSION_DENIED:
      return new PermissionDeniedError(message, target, options);
    case GRPC.RESOURCE_EXHAUSTED:
      return new ThrottledError(message, options);
    case GRPC.INVALID_ARGUMENT:
    case GRPC.ALREADY_EXISTS:
    case GRPC.UNAUTHENTICATED:
      return new PermanentError(message, options);
    default:
      // UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, INTERNAL, network: retry later.
      return new TransientError(message, options);
  }
}

const toNumber = (v: unknown): number => Number(typeof v === 'object' && v ? String(v) : v);

function timestampMs(t: unknown): number | undefined {
  if (!t || typeof t !== 'object') return undefined;
  const { seconds, nanos } = t as { seconds?: unknown; nanos?: unknown };
  if (seconds === undefined || seconds === null) return undefined;
  return toNumber(seconds) * 1000 + Math.floor(toNumber(nanos ?? 0) / 1e6);
}

function durationMs(d: unknown): number | undefined {
  const ms = timestampMs(d);
  return ms === undefined || ms === 0 ? undefined : ms;
}

// The shape gax returns with longs as strings and enums as strings; loose, as the API grows.
const SecretResource = z
  .object({
    name: z.string(),
    etag: z.string().nullish(),
    labels: z.record(z.string(), z.string()).nullish(),
    annotations: z.record(z.string(), z.string()).nullish(),
    versionAliases: z.record(z.string(), z.unknown()).nullish(),
    topics: z.array(z.object({ name: z.string() }).loose()).nullish(),
    rotation: z
      .object({ nextRotationTime: z.unknown(), rotationPeriod: z.unknown() })
      .loose()
      .nullish(),
    createTime: z.unknown(),
  })
  .loose();

export function toSnapshot(raw: unknown): SecretSnapshot {
  const s = SecretResource.parse(raw);
  const aliases: Record<string, number> = {};
  for (const [k, v] of Object.entries(s.versionAliases ?? {})) aliases[k] = toNumber(v);
  const next = timestampMs(s.rotation?.nextRotationTime);
  const period = durationMs(s.rotation?.rotationPeriod);
  const created = timestampMs(s.createTime);
  return {
    name: s.name,
    etag: s.etag ?? '',
    labels: { ...(s.labels ?? {}) },
    annotations: { ...(s.annotations ?? {}) },
    aliases,
    topics: (s.topics ?? []).map((t) => t.name),
    ...(s.rotation
      ? {
          rotation: {
            ...(next === undefined ? {} : { nextRotationTime: next }),
            ...(period === undefined ? {} : { periodMs: period }),
          },
        }
      : {}),
    ...(created === undefined ? {} : { createTime: created }),
  };
}

const VersionResource = z
  .object({
    name: z.string(),
    state: z.union([z.enum(VERSION_STATES), z.string(), z.number()]),
    createTime: z.unknown(),
    etag: z.string().nullish(),
  })
  .loose();

const STATE_BY_NUMBER: Record<number, VersionState> = {
  1: 'ENABLED',
  2: 'DISABLED',
  3: 'DESTROYED',
};

function toVersionInfo(raw: unknown): VersionInfo {
  const v = VersionResource.parse(raw);
  const state = typeof v.state === 'number' ? STATE_BY_NUMBER[v.state] : v.state;
  return {
    number: Number(v.name.slice(v.name.lastIndexOf('/') + 1)),
    state: (VERSION_STATES as readonly string[]).includes(state ?? '')
      ? (state as VersionState)
      : 'DISABLED',
    createTime: timestampMs(v.createTime) ?? 0,
    etag: v.etag ?? '',
  };
}

/** Payload fields whose values are secrets: registered with the redactor on every read and write. */
const SENSITIVE_FIELD = /pass|secret|token|key/i;

function registerPayload(redactor: Redactor | undefined, data: string): void {
  if (!redactor) return;
  redactor.add(data);
  try {
    const parsed = JSON.parse(data) as unknown;
    if (parsed && typeof parsed === 'object') {
      for (const [k, v] of Object.entries(parsed)) {
        if (typeof v === 'string' && SENSITIVE_FIELD.test(k)) redactor.add(v);
      }
    }
  } catch {
    // Not JSON: the whole payload is registered above.
  }
}

export interface GcpSecretStoreOptions {
  /** A client for the secret's location (undefined: global). */
  clientFor: (secretName: string) => SmClient;
  redactor?: Redactor;
}

/** The SecretStore over the official client; a client per location, chosen by the caller. */
export function createGcpSecretStore({ clientFor, redactor }: GcpSecretStoreOptions): SecretStore {
  const call = async <T>(
    op: string,
    target: string,
    fn: () => Promise<T>,
    onPrecondition: 'conflict' | 'state' = 'conflict',
  ): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw classify(err, op, target, onPrecondition);
    }
  };
  const versionName = (secret: string, v: number | string) => `${secret}/versions/${v}`;

  return {
    getSecret: (name) =>
      call('getSecret', name, async () =>
        toSnapshot((await clientFor(name).getSecret({ name }))[0]),
      ),

    listSecrets: (parent, filter) =>
      call('listSecrets', parent, async () => {
        const out: SecretSnapshot[] = [];
        // autoPaginate: false only silences gax's warning; async iteration pages either way.
        for await (const s of clientFor(parent).listSecretsAsync(
          { parent, filter, pageSize: 100 },
          { autoPaginate: false },
        )) {
          out.push(toSnapshot(s));
        }
        return out;
      }),

    updateSecret: (snapshot, change) =>
      call('updateSecret', snapshot.name, async () => {
        const paths: string[] = [];
        const secret: Record<string, unknown> = { name: snapshot.name, etag: snapshot.etag };
        if (change.annotations) {
          paths.push('annotations');
          secret.annotations = change.annotations;
        }
        if (change.aliases) {
          // The mask replaces the whole map (AIP-134): always send every alias.
          paths.push('version_aliases');
          secret.versionAliases = Object.fromEntries(
            Object.entries(change.aliases).map(([k, v]) => [k, String(v)]),
          );
        }
        if (change.rotation) {
          paths.push('rotation');
          const ms = change.rotation.nextRotationTime;
          secret.rotation = {
            nextRotationTime: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 },
          };
        }
        const [updated] = await clientFor(snapshot.name).updateSecret({
          secret,
          updateMask: { paths },
        });
        return toSnapshot(updated);
      }),

    addVersion: (secret, data) =>
      call('addSecretVersion', secret, async () => {
        registerPayload(redactor, data);
        const [version] = await clientFor(secret).addSecretVersion({
          parent: secret,
          payload: { data: Buffer.from(data, 'utf8') },
        });
        return toVersionInfo(version).number;
      }),

    accessVersion: (secret, version) =>
      call(
        'accessSecretVersion',
        versionName(secret, version),
        async () => {
          const [res] = await clientFor(secret).accessSecretVersion({
            name: versionName(secret, version),
          });
          const raw = res.payload?.data;
          const data = typeof raw === 'string' ? raw : Buffer.from(raw ?? []).toString('utf8');
          registerPayload(redactor, data);
          return data;
        },
        'state',
      ),

    listVersions: (secret) =>
      call('listSecretVersions', secret, async () => {
        const out: VersionInfo[] = [];
        for await (const v of clientFor(secret).listSecretVersionsAsync(
          { parent: secret, pageSize: 100 },
          { autoPaginate: false },
        )) {
          out.push(toVersionInfo(v));
        }
        return out.sort((a, b) => b.number - a.number);
      }),

    disableVersion: (secret, version, etag) =>
      call('disableSecretVersion', versionName(secret, version), async () => {
        await clientFor(secret).disableSecretVersion({
          name: versionName(secret, version),
          ...(etag ? { etag } : {}),
        });
      }),

    enableVersion: (secret, version, etag) =>
      call('enableSecretVersion', versionName(secret, version), async () => {
        await clientFor(secret).enableSecretVersion({
          name: versionName(secret, version),
          ...(etag ? { etag } : {}),
        });
      }),

    destroyVersion: (secret, version, etag) =>
      call('destroySecretVersion', versionName(secret, version), async () => {
        await clientFor(secret).destroySecretVersion({
          name: versionName(secret, version),
          ...(etag ? { etag } : {}),
        });
      }),
  };
}
