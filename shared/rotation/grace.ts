import type { RotationConfig } from '../config/rotation-config';
import { RetryLaterError } from '../errors';
import type { RotationRequest } from '../events/rotation-request';
import type { Logger } from '../logging/logger';
import {
  type RetireDeps,
  type Retired,
  type RetireOptions,
  retirePrevious,
} from '../retirement/retire-secret';
import type { SecretSnapshot } from '../secrets/secret-store';
import type { RotatorDeps } from './context';
import { type RotationState, readState, withState } from './state';

/**
 * What the rotator does around the grace rule (invariant 4): wait for it, retire `previous` first
 * when it may go, and break it on purpose for a leak. Retirement's own revoke code does the
 * revoking, so there is one way to retire a credential.
 */

function retireDepsOf(deps: RotatorDeps): RetireDeps {
  return {
    store: deps.store,
    engineFor: deps.engineFor,
    clock: deps.clock,
    logger: deps.logger,
    newHolderId: deps.newHolderId,
    leaseMs: deps.settings.leaseMs,
    overdueMarginMs: 0,
  };
}

/**
 * A request that must wait for the grace window: record it on the Secret (once per request key)
 * and acknowledge. Pub/Sub could not carry it: its redelivery backoff tops out at 600 s and the
 * dead-letter policy at 100 attempts, less than a day's grace. Retirement disabling `previous`
 * sends SECRET_VERSION_DISABLE to the same topic, and rotateSecret then carries the request out
 * (carryOutDeferred); a rotation that starts first answers it too (a merged request).
 */
export async function deferRequest(
  snapshot: SecretSnapshot,
  state: RotationState,
  request: RotationRequest,
  until: number,
  why: string,
  deps: RotatorDeps,
  log: Logger,
): Promise<void> {
  if (state.deferred?.requestKey !== request.requestKey) {
    // A conflict (someone changed the Secret meanwhile) is transient: Pub/Sub redelivers and the
    // rotator decides again on fresh state.
    await deps.store.updateSecret(snapshot, {
      annotations: withState(snapshot.annotations, {
        ...state,
        deferred: {
          requestKey: request.requestKey,
          trigger: request.trigger,
          requestedAt: request.requestedAt,
          ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
          ...(request.reason ? { reason: request.reason } : {}),
          notBefore: until,
        },
      }),
    });
  }
  log.info(
    `rotation deferred: the previous credential is still promised to consumers (${why}); it runs once retirement allows it`,
    {
      event: 'rotation.deferred',
      requestKey: request.requestKey,
      trigger: request.trigger,
      possibleAt: new Date(until).toISOString(),
    },
  );
}

/**
 * Retire `previous` of `snapshot` now, through retirement's own code (one way to retire a
 * credential): the retire-first path and the emergency path both come here. Undefined when there
 * is no `previous` or the Secret changed before the claim.
 */
async function retirePreviousNow(
  snapshot: SecretSnapshot,
  config: RotationConfig,
  deps: RotatorDeps,
  log: Logger,
  options: RetireOptions = {},
): Promise<(Retired & { version: number }) | undefined> {
  const previous = snapshot.aliases.previous;
  if (previous === undefined) return undefined;
  const versions = await deps.store.listVersions(snapshot.name);
  const retired = await retirePrevious(
    snapshot,
    config,
    previous,
    [],
    retireDepsOf(deps),
    log,
    versions.find((v) => v.number === previous)?.etag,
    options,
  );
  return retired && { ...retired, version: previous };
}

/** Every consumer confirmed (or `previous` is due): retire it now, before the rotation starts. */
export async function retireFirst(
  snapshot: SecretSnapshot,
  config: RotationConfig,
  deps: RotatorDeps,
  log: Logger,
): Promise<void> {
  if (snapshot.aliases.previous === undefined) return;
  log.info('retiring the previous credential before rotating (consumers confirmed, or it is due)', {
    event: 'rotation.retire-first',
    version: snapshot.aliases.previous,
  });
  await retirePreviousNow(snapshot, config, deps, log);
}

/**
 * After an emergency rotation: revoke `previous` at once (no grace) and end the live sessions of
 * its login. With single-user and dual-password that login is also `current`'s: every session of
 * it ends, and consumers reconnect with the new password (an attacker's session cannot be told
 * apart). The rotator's own session is spared. Both happen inside retirement's fenced session
 * (its `retiring` lease and deadline): a worker stalled past the lease ends no session of a login
 * that may be current again by then. A Secret that changed before the claim: RetryLaterError, the
 * redelivery (decision `emergency-revoke`) finishes it.
 */
export async function revokeAfterEmergency(
  secret: string,
  config: RotationConfig,
  deps: RotatorDeps,
  log: Logger,
): Promise<void> {
  const snapshot = await deps.store.getSecret(secret);
  if (snapshot.aliases.previous === undefined || snapshot.aliases.current === undefined) return;
  const retired = await retirePreviousNow(snapshot, config, deps, log, { endSessions: true });
  if (!retired) {
    throw new RetryLaterError(
      `secret ${secret} changed before the emergency revoke could claim it; retry later`,
    );
  }
  log.notice('emergency: previous credential revoked at once and its sessions ended', {
    event: 'rotation.emergency-revoked',
    version: retired.version,
    login: retired.login,
    sessionsEnded: retired.sessionsEnded,
    strategy: config.strategy,
  });
}

/** The deferred request recorded on a Secret, as a request the rotator can handle again. */
export function deferredRequest(
  secret: string,
  annotations: Record<string, string>,
): RotationRequest | undefined {
  const d = readState(annotations).deferred;
  if (!d) return undefined;
  return {
    secret,
    trigger: d.trigger,
    requestKey: d.requestKey,
    requestedAt: d.requestedAt,
    ...(d.requestedBy ? { requestedBy: d.requestedBy } : {}),
    ...(d.reason ? { reason: d.reason } : {}),
  };
}
