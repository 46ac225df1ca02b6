import type { Clock } from '../clock';
import { STATE_KEYS } from '../config/annotations';
import type { RotationConfig } from '../config/rotation-config';
import type { Deadline } from '../engines/deadline';
import type { Credential, DatabaseEngine, EngineName } from '../engines/engine';
import { ConflictError } from '../errors';
import type { RotationRequest } from '../events/rotation-request';
import type { Logger } from '../logging/logger';
import type { Redactor } from '../logging/redactor';
import type { DatabasePayload } from '../secrets/payload';
import type { SecretChange, SecretSnapshot, SecretStore } from '../secrets/secret-store';
import type { DeploymentScope } from '../trust/scope';
import type { RandomBytes } from './password';
import {
  type HistoryEntry,
  type RotationRecord,
  type RotationState,
  readHistory,
  readState,
  type StagedRefRecord,
  type Status,
  withState,
} from './state';
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

const MAX_CAS_RETRIES = 5;

/**
 * UpdateSecret, surviving a lost response: when the call fails with anything but a conflict, the
 * write may still have been applied. Re-read, and if the state annotation is exactly what we
 * wrote, it was: carry on instead of treating our own write as someone else's.
 */
export async function updateOrConfirm(
  store: SecretStore,
  snapshot: SecretSnapshot,
  change: SecretChange,
): Promise<SecretSnapshot> {
  try {
    return await store.updateSecret(snapshot, change);
  } catch (err) {
    if (err instanceof ConflictError) throw err;
    const written = change.annotations?.[STATE_KEYS.state];
    const fresh = await store.getSecret(snapshot.name).catch(() => undefined);
    if (written !== undefined && fresh?.annotations[STATE_KEYS.state] === written) return fresh;
    throw err;
  }
}

export function applyAliases(
  current: Record<string, number>,
  change?: AliasChange,
): Record<string, number> {
  const out = { ...current, ...(change?.set ?? {}) };
  for (const k of change?.remove ?? []) delete out[k];
  return out;
}

/**
 * The one way rotation state is written: read-modify-write with the Secret's etag. Other writers
 * (refreshConsumers' records, retireVersions, an operator's gcloud) may change the Secret in
 * between; on a conflict we re-read, check that the rotation is still ours, and re-apply.
 */
export async function persist(ctx: RotationContext, change: StateChange): Promise<void> {
  const { store, clock } = ctx.deps;
  let snapshot = ctx.snapshot;
  for (let attempt = 1; ; attempt++) {
    const state = readState(snapshot.annotations);
    if (snapshot !== ctx.snapshot) {
      const r = state.rotation;
      if (
        state.status !== 'rotating' ||
        r?.id !== ctx.record.id ||
        r.holder !== ctx.record.holder
      ) {
        throw new ConflictError('rotation was taken over by another worker', {
          context: { rotationId: ctx.record.id },
        });
      }
    }
    const record: RotationRecord = {
      ...ctx.record,
      ...(ctx.staged ? { staged: ctx.staged } : {}),
      ...change.record,
      // A released lease keeps the time it was given up: expired for a takeover, and the last
      // sign of life for the overdue check (shared/retirement/overdue.ts).
      leaseUntil: clock.now() + (change.releaseLease ? 0 : ctx.deps.settings.leaseMs),
    };
    const next: RotationState = {
      ...state,
      status: change.status ?? 'rotating',
      rotation: record,
      ...(change.promotedAt === undefined ? {} : { promotedAt: change.promotedAt }),
      ...(change.currentCredential === undefined
        ? {}
        : { currentCredential: change.currentCredential }),
      ...(change.destroyStaged === undefined
        ? {}
        : {
            stagedToDestroy: [
              ...(state.stagedToDestroy ?? []).filter(
                (d) =>
                  d.secret !== change.destroyStaged?.secret ||
                  d.version !== change.destroyStaged.version,
              ),
              change.destroyStaged,
            ],
          }),
    };
    const history = change.history
      ? [change.history, ...readHistory(snapshot.annotations)]
      : undefined;
    try {
      ctx.snapshot = await updateOrConfirm(store, snapshot, {
        annotations: withState(snapshot.annotations, next, history),
        ...(change.aliases ? { aliases: applyAliases(snapshot.aliases, change.aliases) } : {}),
        ...(change.nextRotationTime === undefined
          ? {}
          : { rotation: { nextRotationTime: change.nextRotationTime } }),
      });
      ctx.record = record;
      return;
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= MAX_CAS_RETRIES) throw err;
      snapshot = await store.getSecret(snapshot.name);
    }
  }
}

/**
 * How much earlier than the lease end a database session must be done: covers the clock skew
 * between workers and the database server, and the server's own latency in abandoning a statement
 * (docs/architecture.md, "Fencing"). A fifth of the lease, at most 30 s.
 */
export function fenceMarginMs(leaseMs: number): number {
  return Math.min(30_000, Math.floor(leaseMs / 5));
}

/**
 * The deadline of a database session that changes logins (set, rollback). Our last
 * compare-and-swap set `leaseUntil`, and nobody takes the rotation over before it, so a session
 * that ends before `leaseUntil - margin` cannot race a successor. When less than half the lease is
 * left, the lease is re-asserted first (one CAS; it fails with ConflictError if the rotation was
 * taken), so the session gets a fresh, full budget; on a normal rotation this costs no call.
 */
export async function fencedDeadline(ctx: RotationContext): Promise<Deadline> {
  const { clock, settings } = ctx.deps;
  if (ctx.record.leaseUntil - clock.now() < settings.leaseMs / 2) await persist(ctx, {});
  return { at: ctx.record.leaseUntil - fenceMarginMs(settings.leaseMs), now: () => clock.now() };
}
