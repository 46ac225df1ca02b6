import type { Clock } from '../clock';
import type { RotationConfig } from '../config/rotation-config';
import type { Credential, DatabaseEngine, EngineName } from '../engines/engine';
import type { RotationRequest } from '../events/rotation-request';
import type { Logger } from '../logging/logger';
import type { Redactor } from '../logging/redactor';
import type { DatabasePayload } from '../secrets/payload';
import type { SecretSnapshot, SecretStore } from '../secrets/secret-store';
import type { DeploymentScope } from '../trust/scope';
import type { RandomBytes } from './password';
import type { HistoryEntry, RotationRecord, StagedRefRecord, Status } from './state';
import type { Strategy } from './strategies';

export interface RotatorSettings {
  /** Full name of the rotation-events topic. */
  rotationEventsTopic: string;
  /** How long a worker owns a rotation without writing progress (≥ the function timeout). */
  leaseMs: number;
  /** How many times a login test is tried before the test step fails (replication lag). */
  testAttempts: number;
  /** Pause between login tests. */
  testRetryDelayMs: number;
  /** Attempts per rotation where the secret does not set `rotator.max-attempts`. */
  maxAttempts?: number;
  /** The deployment's floor under `rotator.grace-period` (default DEFAULT_MIN_GRACE_MS). */
  minGracePeriodMs?: number;
  /** One delivery's time for waiting out Secret Manager quota (shared/runtime/delivery.ts). */
  throttleWaitMs?: number;
  /** The secrets this deployment may rotate (label and projects); anything else is refused. */
  scope: DeploymentScope;
  /**
   * The staging secret shards (ROTATOR_STAGING_SECRET): where a pending credential waits until it
   * is verified (shared/rotation/staging.ts). Empty: rotations are refused (SettingsError).
   */
  stagingSecrets: readonly string[];
}

export type Publish = (
  topic: string,
  data: string,
  attributes: Record<string, string>,
) => Promise<void>;

/** Everything the rotation needs from the outside world, passed in. */
export interface RotatorDeps {
  store: SecretStore;
  engineFor: (name: EngineName) => DatabaseEngine;
  publish: Publish;
  clock: Clock;
  randomBytes: RandomBytes;
  logger: Logger;
  redactor: Redactor;
  /** A unique id for this worker (invocation), recorded as the lease holder. */
  newHolderId: () => string;
  /**
   * Called at every point where a crash would leave work half done (after the claim, after the
   * version is added, after the database changed, after each step is persisted, after publishing).
   * Production passes nothing; the crash tests kill the process here.
   */
  failpoint?: (point: string) => void;
  settings: RotatorSettings;
}

/** One rotation being driven by this worker. */
export interface RotationContext {
  deps: RotatorDeps;
  request: RotationRequest;
  config: RotationConfig;
  engine: DatabaseEngine;
  strategy: Strategy;
  log: Logger;
  /** The latest Secret this worker has seen (its etag is the CAS token). */
  snapshot: SecretSnapshot;
  record: RotationRecord;
  base: DatabasePayload;
  /** Loaded lazily and cached: the pending credential (staged, shared/rotation/staging.ts). */
  pending?: DatabasePayload;
  /** Where the pending credential is staged, once known; every write of the record carries it. */
  staged?: StagedRefRecord;
  /**
   * This delivery took an existing rotation over (or resumed an unresolved one): an earlier
   * delivery may have left orphans (a staged version, a managed version added by a promote that
   * died before moving `current`) that must be found and adopted, never added twice. A fresh
   * rotation has none, and skips the searches (quota).
   */
  resumed: boolean;
  /** The password generated at the claim (its digest is in the record), until create stages it. */
  generatedPassword?: string;
  /**
   * The admin credential, read and checked against the admin secret's `rotator.serves` once per
   * delivery (the claim's pre-flight, or the first step that needs it).
   */
  adminCredential?: Credential;
}

export interface AliasChange {
  set?: Record<string, number>;
  remove?: string[];
}

export interface StateChange {
  record?: Partial<RotationRecord>;
  status?: Status;
  aliases?: AliasChange;
  promotedAt?: number;
  /** `current` moves to a version holding the credential first promoted as `origin`. */
  currentCredential?: { current: number; origin: number };
  /** Prepend to the secret's rotation history. */
  history?: HistoryEntry;
  /** Give the lease up (a transient failure): the redelivery may take over at once. */
  releaseLease?: boolean;
  /** Set Secret Manager's next_rotation_time in the same write (a scheduled secret's next time). */
  nextRotationTime?: number;
  /** Hand this staged version to retirement for destruction (state.stagedToDestroy). */
  destroyStaged?: StagedRefRecord;
}
