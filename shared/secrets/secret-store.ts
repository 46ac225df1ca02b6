/**
 * The rotator's view of Secret Manager: plain types and one narrow interface. The official client
 * behind it lives in gcp-secret-store.ts, the mapping of its resources in resource-mapping.ts and
 * the meaning of its failures in errors.ts.
 */

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
  /** The whole label map becomes this (onboarding: `gsm-rotator adopt`). */
  labels?: Record<string, string>;
  /** The whole topic list becomes this (full topic names; onboarding). */
  topics?: string[];
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
  /** Newest first; `filter` is Secret Manager's list filter (e.g. `state:ENABLED`). */
  listVersions(secret: string, filter?: string): Promise<VersionInfo[]>;
  disableVersion(secret: string, version: number, etag?: string): Promise<void>;
  enableVersion(secret: string, version: number, etag?: string): Promise<void>;
  destroyVersion(secret: string, version: number, etag?: string): Promise<void>;
}
