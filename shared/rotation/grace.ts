import type { RotationConfig } from '../config/rotation-config';
import type { RotationRequest } from '../events/rotation-request';
import type { Logger } from '../logging/logger';
import { type RetireDeps, retirePrevious } from '../retirement/retire-secret';
import { credentialOf, endpointOf } from '../secrets/payload';
import type { SecretSnapshot } from '../secrets/secret-store';
import { adminCredential, rotationLogins } from './admin';
import type { RotatorDeps } from './context';
import { type RotationState, readState, withState } from './state';
import { parsePayload } from './steps';

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

/** Every consumer confirmed (or `previous` is due): retire it now, before the rotation starts. */
export async function retireFirst(
  snapshot: SecretSnapshot,
  config: RotationConfig,
  deps: RotatorDeps,
  log: Logger,
): Promise<void> {
  const previous = snapshot.aliases.previous;
  if (previous === undefined) return;
  const versions = await deps.store.listVersions(snapshot.name);
  log.info('retiring the previous credential before rotating (consumers confirmed, or it is due)', {
    event: 'rotation.retire-first',
    version: previous,
  });
  await retirePrevious(
    snapshot,
    config,
    previous,
    [],
    retireDepsOf(deps),
    log,
    versions.find((v) => v.number === previous)?.etag,
  );
}

/**
 * After an emergency rotation: revoke `previous` at once (no grace) and end the live sessions of
 * its login. With single-user and dual-password that login is also `current`'s: every session of
 * it ends, and consumers reconnect with the new password (an attacker's session cannot be told
 * apart). The rotator's own session is spared.
 */
export async function revokeAfterEmergency(
  secret: string,
  config: RotationConfig,
  deps: RotatorDeps,
  log: Logger,
): Promise<void> {
  const snapshot = await deps.store.getSecret(secret);
  const previous = snapshot.aliases.previous;
  const current = snapshot.aliases.current;
  if (previous === undefined || current === undefined) return;
  const [retired, currentPayload, versions] = await Promise.all([
    deps.store.accessVersion(secret, previous).then((d) => parsePayload(d, `version ${previous}`)),
    deps.store.accessVersion(secret, current).then((d) => parsePayload(d, `version ${current}`)),
    deps.store.listVersions(secret),
  ]);
  await retirePrevious(
    snapshot,
    config,
    previous,
    [],
    retireDepsOf(deps),
    log,
    versions.find((v) => v.number === previous)?.etag,
  );
  const engine = deps.engineFor(config.engine);
  const admin =
    config.adminSecret === 'self'
      ? credentialOf(currentPayload)
      : await adminCredential(deps.store, config.adminSecret, currentPayload, {
          secret,
          engine: config.engine,
          logins: [
            ...new Set([
              retired.username,
              ...rotationLogins(config, currentPayload.username, engine),
            ]),
          ],
        });
  const ended = await engine.withSession(endpointOf(currentPayload), admin, (s) =>
    s.endSessions(retired.username),
  );
  log.notice('emergency: previous credential revoked at once and its sessions ended', {
    event: 'rotation.emergency-revoked',
    version: previous,
    login: retired.username,
    sessionsEnded: ended,
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
