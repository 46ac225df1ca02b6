import type { Duration, Instant } from './time';

/** What the emulator keeps: plain data, JSON-friendly apart from version payloads. */
export const VERSION_STATES = ['ENABLED', 'DISABLED', 'DESTROYED'] as const;
export type VersionState = (typeof VERSION_STATES)[number];

export interface CustomerManagedEncryption {
  kmsKeyName: string;
}

/** The replication policy as the proto spells it (camelCase), echoed back as created. */
export type Replication =
  | { automatic: { customerManagedEncryption?: CustomerManagedEncryption } }
  | {
      userManaged: {
        replicas: { location: string; customerManagedEncryption?: CustomerManagedEncryption }[];
      };
    };

export interface Rotation {
  nextRotationTime?: Instant;
  rotationPeriod?: Duration;
}

export interface StoredVersion {
  number: number;
  createTime: Instant;
  state: VersionState;
  etag: string;
  clientSpecifiedPayloadChecksum: boolean;
  destroyTime?: Instant;
  scheduledDestroyTime?: Instant;
  /** Dropped when the version is destroyed. */
  payload?: Buffer;
}

export interface IamPolicy {
  version?: number;
  bindings?: unknown[];
  auditConfigs?: unknown[];
  etag: string;
}

export interface StoredSecret {
  name: string;
  project: string;
  location?: string;
  createTime: Instant;
  etag: string;
  replication?: Replication;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  topics: string[];
  expireTime?: Instant;
  rotation?: Rotation;
  versionAliases: Record<string, number>;
  versionDestroyTtl?: Duration;
  customerManagedEncryption?: CustomerManagedEncryption;
  secretType?: string;
  versions: StoredVersion[];
  iamPolicy?: IamPolicy;
}

/**
 * A Secret as a request carries it, already decoded (durations, timestamps and int64 values as
 * numbers). `expiration` mirrors the proto oneof: a TTL is turned into an expire time at write.
 */
export interface SecretInput {
  replication?: Replication;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  topics: string[];
  expiration?: { ttl: Duration } | { expireTime: Instant };
  rotation?: Rotation;
  versionAliases: Record<string, string>;
  versionDestroyTtl?: Duration;
  customerManagedEncryption?: CustomerManagedEncryption;
  secretType?: string;
  etag?: string;
}
