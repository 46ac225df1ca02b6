import { createHash } from 'node:crypto';
import type { Clock } from '../clock';
import { ALIASES, MANAGED_LABEL } from '../config/annotations';
import type { DatabaseEngine, EngineName } from '../engines/engine';
import { ConflictError, PermanentError, RetryLaterError, TransientError } from '../errors';
import {
  outcomeAttributes,
  ROTATION_OUTCOME_SCHEMA,
  type RotationOutcome,
} from '../events/rotation-outcome';
import { type Pause, readPause, withPause } from '../schedule/pause';
import { credentialOf, endpointOf } from '../secrets/payload';
import type { SecretSnapshot, SecretStore } from '../secrets/secret-store';
import { adminCredential, rotationLogins } from './admin';
import type { Publish } from './context';
import { fenceMarginMs } from './fencing';
import { applyAliases } from './persist';
import { readConfig } from './rotator';
import { type HistoryEntry, readHistory, readState, withState } from './state';
import { parsePayload } from './steps';
import { STRATEGY_IMPLS } from './strategies';

/**
 * Why a rollback was refused: the credential of `previous` no longer logs in, so moving `current`
 * to it would break every consumer.
 * - `single-user`: the rotation's set step replaced the one login's password;
 * - `retired`: retirement revoked the previous credential (no `previous` alias, or its version is
 *   no longer enabled);
 * - `login-failed`: a real login with it was rejected by the server;
 * - `privilege-gap` (alternating-users): the rolled-back login was granted something the previous
 *   login lacks (invariant 10: `current` can do what the login it replaces could).
 */
export const REFUSALS = [
  'unmanaged',
  'single-user',
  'retired',
  'login-failed',
  'privilege-gap',
] as const;
export type Refusal = (typeof REFUSALS)[number];

/** A rollback that cannot be done (permanent: running it again does not help). */
export class RollbackRefusedError extends PermanentError {
  constructor(
    message: string,
    readonly refusal: Refusal,
  ) {
    super(message);
    this.name = 'RollbackRefusedError';
  }
}

/** What a rollback needs from the outside world, passed in (the CLI wires its own). */
export interface RollbackDeps {
  store: SecretStore;
  engineFor: (name: EngineName) => DatabaseEngine;
  publish: Publish;
  clock: Clock;
  /** Full name of the deployment's rotation-events topic, which refreshConsumers reads. */
  rotationEventsTopic: string;
  /** How long the rollback holds the secret (ms); the login and the writes must fit in it. */
  leaseMs: number;
}

export interface RollbackRequest {
  /** Full secret name. */
  secret: string;
  /** Why (at most 500 characters); recorded in the history and the pause. */
  reason: string;
  /** Who asks: a claim (the CLI's signed-in identity or $USER), never verified. */
  requestedBy: string;
  /** Unique per invocation: the rollback's id and its lease holder derive from it. */
  requestId: string;
}

export interface RollbackResult {
  /** `rollback-…`: in the history, the rotation-events message and the consumers' refresh. */
  id: string;
  secret: string;
  /** `current` before the rollback: the rolled-back credential's version, now `previous`. */
  fromVersion: number;
  /** The version whose credential is restored (the old `previous`). */
  restoredVersion: number;
  /** The new version holding the restored credential: `current` and `latest` now. */
  toVersion: number;
  /** The login `current` now holds, and the rolled-back one (the same with dual-password). */
  username: string;
  rolledBackUsername: string;
  /** The pause now on the secret (this rollback's, or one that was already there). */
  pause: Pause;
  startedAt: number;
  completedAt: number;
  /** When the rolled-back credential will be revoked at the earliest (its grace period, ms). */
  retireNotBefore: number;
}

/** The rollback's id: like a rotation id, derived from the secret and the request. */
export function rollbackIdFor(secret: string, requestId: string): string {
  return `rollback-${createHash('sha256').update(`${secret}\n${requestId}`).digest('hex').slice(0, 20)}`;
}

const MAX_CAS_RETRIES = 5;
const PAUSE_REASON_MAX = 500;

/**
 * Move `current` back to the credential of `previous` (docs/operations.md, "Roll back a rotation").
 * Only while that credential still logs in: alternating-users and dual-password keep it valid until
 * retirement revokes it after the grace period; single-user replaces it at the rotation's set step.
 *
 * 1. Refuse (RollbackRefusedError) for single-user, or when `previous` is gone or not enabled.
 * 2. Take the secret's `retiring` lease (CAS on the etag): every rotation (shared/rotation/decide.ts)
 *    and every retirement tick (shared/retirement/plan.ts) waits while it is held, so neither can
 *    interleave with the rollback; a rotation or retirement in flight makes it a RetryLaterError.
 * 3. Check the admin secret's `rotator.serves` binding for both logins as a rotation does
 *    (shared/rotation/admin.ts), then a real login with previous's credential and the secret's test
 *    query (rejected: refused, `login-failed`), and with alternating-users privilege parity
 *    (invariant 10; a gap: refused, `privilege-gap`).
 * 4. Add previous's payload, byte for byte, as a NEW version: `latest` is the highest version
 *    number whatever its state, so it must hold the restored credential too (disabling the newer
 *    version would break `latest` readers).
 * 5. One CAS: `current` → the new version, `previous` → the rolled-back version (retired after a
 *    fresh grace period by the normal retirement, which revokes it and keeps `current`: consumers
 *    that already switched to it keep working until the refresh reaches them), the history entry,
 *    a pause of scheduled rotations (the next one would produce what was just rolled back), the
 *    lease released. Only if the lease is still ours and its fence margin not reached.
 * 6. Publish a rotation outcome on rotation-events, as the announce step does, so refreshConsumers
 *    pushes the restored credential to the consumers.
 * Nothing changes in the database: both credentials are valid until retirement.
 */
export async function rollBack(
  request: RollbackRequest,
  deps: RollbackDeps,
): Promise<RollbackResult> {
  const { store, clock } = deps;
  const startedAt = clock.now();
  const snapshot = await store.getSecret(request.secret);
  const name = snapshot.name;
  // As for a rotation (trust/scope.ts): only secrets labelled managed. The label is not a
  // permission (the caller's IAM is), but it keeps a rollback off a secret the rotator left.
  if (snapshot.labels[MANAGED_LABEL.key] !== MANAGED_LABEL.value) {
    throw new RollbackRefusedError(
      `${name} is not labelled ${MANAGED_LABEL.key}=${MANAGED_LABEL.value}: the rotator does not manage it`,
      'unmanaged',
    );
  }
  const config = readConfig(snapshot);
  if (!STRATEGY_IMPLS[config.strategy].keepsPrevious) {
    throw new RollbackRefusedError(
      `${name} uses single-user: its rotation replaced the login's password, so the previous credential no longer works; rotate again instead`,
      'single-user',
    );
  }
  const current = snapshot.aliases[ALIASES.current];
  const previous = snapshot.aliases[ALIASES.previous];
  if (current === undefined) {
    throw new PermanentError(`${name} has no ${ALIASES.current} alias: nothing to roll back`);
  }
  if (previous === undefined) {
    throw new RollbackRefusedError(
      `${name} has no ${ALIASES.previous} version: the previous credential was retired (revoked after its grace period), or the secret was never rotated`,
      'retired',
    );
  }
  const versionState = (await store.listVersions(name)).find((v) => v.number === previous)?.state;
  if (versionState !== 'ENABLED') {
    throw new RollbackRefusedError(
      `${name}: previous version ${previous} is ${versionState ?? 'gone'}: its credential was retired`,
      'retired',
    );
  }

  const holder = `rollback:${request.requestId}`;
  const id = rollbackIdFor(name, request.requestId);
  const leaseUntil = startedAt + deps.leaseMs;
  let held = await takeLease(store, snapshot, previous, holder, startedAt, leaseUntil);
  let result: RollbackResult;
  let announcement: Announcement;
  try {
    const restoredText = await store.accessVersion(name, previous);
    const restored = parsePayload(restoredText, `version ${previous}`);
    const rolledBack = parsePayload(await store.accessVersion(name, current), `version ${current}`);
    const engine = deps.engineFor(config.engine);
    // The same check as every rotation: the admin secret's owners must let this secret's logins
    // be managed through it. The rollback itself changes no login; this refuses it for a secret
    // the deployment's admin would not serve. ('self' is single-user only: refused above.)
    const admin = await adminCredential(store, config.adminSecret, restored, {
      secret: name,
      engine: config.engine,
      logins: rotationLogins(config, restored.username, engine),
    });
    const login = await engine.tryLogin(
      endpointOf(restored),
      credentialOf(restored),
      config.testQuery,
    );
    if (!login.ok) {
      throw new RollbackRefusedError(
        `${name}: the server rejected the previous credential (version ${previous}, login ${restored.username}): it no longer works`,
        'login-failed',
      );
    }
    if (restored.username !== rolledBack.username) {
      // Read-only: one catalog query (PostgreSQL) or two SHOW GRANTS (MySQL/MariaDB).
      const gap = await engine.withSession(endpointOf(restored), admin, (s) =>
        s.privilegeGap(restored.username, rolledBack.username),
      );
      if (gap !== undefined) {
        throw new RollbackRefusedError(
          `${name}: login ${restored.username} lacks what ${rolledBack.username} was granted since the rotation (${gap}): grant it to ${restored.username} first`,
          'privilege-gap',
        );
      }
    }
    if (clock.now() >= leaseUntil - fenceMarginMs(deps.leaseMs)) {
      throw new TransientError(
        `${name}: the rollback took longer than its lease; nothing was changed: try again`,
      );
    }
    const toVersion = await store.addVersion(name, restoredText);
    const completedAt = clock.now();
    const entry: HistoryEntry = {
      id,
      kind: 'rollback',
      trigger: 'on-demand',
      requestedBy: request.requestedBy,
      reason: request.reason,
      outcome: 'succeeded',
      startedAt,
      completedAt,
      fromVersion: current,
      toVersion,
      attempts: 1,
    };
    const ourPause: Pause = {
      by: request.requestedBy,
      at: completedAt,
      reason: `rollback ${id}: ${request.reason}`.slice(0, PAUSE_REASON_MAX),
    };
    let pause = ourPause;
    for (let attempt = 1; ; attempt++) {
      const state = readState(held.annotations);
      if (state.retiring?.holder !== holder || clock.now() >= leaseUntil) {
        throw new ConflictError(
          `${name}: the rollback lost its lease; version ${toVersion} was added but current was not moved: run rollback again`,
        );
      }
      // A request deferred by the grace window was made before the rollback: `lastStartedAt`
      // makes it stale anyway; dropping it keeps retirement from carrying it out.
      const { retiring: _ours, deferred: _before, ...rest } = state;
      pause = readPause(held.annotations) ?? ourPause;
      try {
        held = await store.updateSecret(held, {
          annotations: withPause(
            withState(
              held.annotations,
              {
                ...rest,
                lastStartedAt: startedAt,
                promotedAt: completedAt,
                currentCredential: { current: toVersion, origin: toVersion },
              },
              [entry, ...readHistory(held.annotations)],
            ),
            pause,
          ),
          aliases: applyAliases(held.aliases, {
            set: { [ALIASES.current]: toVersion, [ALIASES.previous]: current },
          }),
        });
        break;
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= MAX_CAS_RETRIES) throw err;
        held = await store.getSecret(name);
      }
    }
    announcement = {
      id,
      name,
      engine: config.engine,
      strategy: config.strategy,
      requestedBy: request.requestedBy,
      fromVersion: current,
      toVersion,
      startedAt,
      completedAt,
    };
    result = {
      id,
      secret: name,
      fromVersion: current,
      restoredVersion: previous,
      toVersion,
      username: restored.username,
      rolledBackUsername: rolledBack.username,
      pause,
      startedAt,
      completedAt,
      retireNotBefore: completedAt + config.gracePeriodMs,
    };
  } catch (err) {
    await releaseLease(store, name, holder).catch(() => undefined);
    throw err;
  }
  try {
    await announce(deps, announcement);
  } catch (err) {
    throw new RollbackNotAnnouncedError(result, deps.rotationEventsTopic, err);
  }
  return result;
}

/**
 * The rollback is done (current, latest, pause, history), but its outcome did not reach
 * rotation-events, so refreshConsumers was not told: the consumers keep the rolled-back credential
 * until refreshed (it stays valid for its grace period). Transient: publishing again helps.
 */
export class RollbackNotAnnouncedError extends TransientError {
  constructor(
    readonly result: RollbackResult,
    topic: string,
    cause: unknown,
  ) {
    super(
      `rolled back ${result.secret} to version ${result.toVersion}, but the outcome could not be published on ${topic}: consumers were not refreshed; refresh them by hand, or check the publisher role and the topic name`,
      { cause },
    );
    this.name = 'RollbackNotAnnouncedError';
  }
}

/** Take the `retiring` lease, or say what holds the secret (an expected wait). */
async function takeLease(
  store: SecretStore,
  snapshot: SecretSnapshot,
  previous: number,
  holder: string,
  now: number,
  leaseUntil: number,
): Promise<SecretSnapshot> {
  const state = readState(snapshot.annotations);
  if (state.status === 'rotating' && state.rotation) {
    throw new RetryLaterError(
      `${snapshot.name}: rotation ${state.rotation.id} is in flight (step ${state.rotation.step}): roll back after it finishes`,
    );
  }
  if (state.status === 'failed' && state.rotation?.unresolved) {
    throw new PermanentError(
      `${snapshot.name}: rotation ${state.rotation.id} is unresolved (its pending credential may be live): let the next rotation resolve it before rolling back`,
    );
  }
  if (state.retiring && state.retiring.leaseUntil > now) {
    throw new RetryLaterError(
      `${snapshot.name}: version ${state.retiring.version} is being retired or rolled back right now: try again in a minute`,
    );
  }
  return store.updateSecret(snapshot, {
    annotations: withState(snapshot.annotations, {
      ...state,
      retiring: { version: previous, leaseUntil, holder },
    }),
  });
}

/** Give the lease up after a refusal or a failure, if it is still ours. */
async function releaseLease(store: SecretStore, name: string, holder: string): Promise<void> {
  const fresh = await store.getSecret(name);
  const { retiring, ...rest } = readState(fresh.annotations);
  if (retiring?.holder !== holder) return;
  await store.updateSecret(fresh, { annotations: withState(fresh.annotations, rest) });
}

interface Announcement {
  id: string;
  name: string;
  engine: EngineName;
  strategy: RotationOutcome['strategy'];
  requestedBy: string;
  fromVersion: number;
  toVersion: number;
  startedAt: number;
  completedAt: number;
}

/** The rotation outcome refreshConsumers acts on (same schema as the announce step's). */
async function announce(deps: RollbackDeps, r: Announcement): Promise<void> {
  const outcome: RotationOutcome = {
    schema: ROTATION_OUTCOME_SCHEMA,
    rotationId: r.id,
    secret: r.name,
    outcome: 'succeeded',
    engine: r.engine,
    strategy: r.strategy,
    trigger: 'on-demand',
    requestedBy: r.requestedBy,
    previousVersion: String(r.fromVersion),
    newVersion: String(r.toVersion),
    startedAt: new Date(r.startedAt).toISOString(),
    completedAt: new Date(r.completedAt).toISOString(),
    durationMs: r.completedAt - r.startedAt,
    stepMs: {},
    attempts: 1,
  };
  await deps.publish(deps.rotationEventsTopic, JSON.stringify(outcome), outcomeAttributes(outcome));
}
