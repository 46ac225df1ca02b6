import type { Clock } from '../clock';
import { ALIASES, STATE_KEYS } from '../config/annotations';
import type { RotationConfig } from '../config/rotation-config';
import { DatabricksConsumersSchema, targetId } from '../consumers/targets';
import type { Deadline } from '../engines/deadline';
import type { DatabaseEngine, EngineName } from '../engines/engine';
import { ConflictError } from '../errors';
import type { Logger } from '../logging/logger';
import { adminCredential, rotationLogins } from '../rotation/admin';
import { fenceMarginMs } from '../rotation/fencing';
import { applyAliases } from '../rotation/persist';
import { readConfig } from '../rotation/rotator';
import {
  type RotationState,
  readHistory,
  readState,
  type StagedRefRecord,
  withState,
} from '../rotation/state';
import { parsePayload } from '../rotation/steps';
import { STRATEGY_IMPLS } from '../rotation/strategies';
import { syncNextRotationTime } from '../schedule/sync';
import { credentialOf, endpointOf } from '../secrets/payload';
import type { SecretSnapshot, SecretStore, VersionInfo } from '../secrets/secret-store';
import { updateWithRetry } from '../secrets/update-with-retry';
import type { ConditionMemory } from './condition-memory';
import { destroyStaged, forgetStaged, withoutStaged } from './destroy-staged';
import { nextRetireCheck, retireCheckDue, withRetireCheck } from './next-check';
import { checkOverdue } from './overdue';
import { planRetirement, type RetirePlan } from './plan';

export interface RetireDeps {
  store: SecretStore;
  engineFor: (name: EngineName) => DatabaseEngine;
  clock: Clock;
  logger: Logger;
  newHolderId: () => string;
  leaseMs: number;
  overdueMarginMs: number;
  /** The deployment's floor under `rotator.grace-period` (default DEFAULT_MIN_GRACE_MS). */
  minGracePeriodMs?: number;
  /** Report a standing overdue condition once per change (the tick's instance keeps it). */
  overdueMemory?: ConditionMemory;
  /** The deployment's staging secrets (ROTATOR_STAGING_SECRET): destroy-staged.ts checks them. */
  stagingSecrets?: readonly string[];
}

/** The ids of the Databricks targets configured on a secret (retirement waits for them). */
export function consumerIdsOf(config: RotationConfig): string[] {
  if (config.consumers === undefined) return [];
  const parsed = DatabricksConsumersSchema.safeParse(config.consumers);
  return parsed.success ? parsed.data.targets.map(targetId) : [];
}

export interface SecretPlan {
  plan: RetirePlan;
  versions: VersionInfo[];
  config: RotationConfig;
}

export async function planSecret(
  snapshot: SecretSnapshot,
  deps: Pick<RetireDeps, 'store' | 'clock' | 'minGracePeriodMs'>,
): Promise<SecretPlan> {
  const config = readConfig(
    snapshot,
    deps.minGracePeriodMs === undefined ? {} : { minGracePeriodMs: deps.minGracePeriodMs },
  );
  const versions = await deps.store.listVersions(snapshot.name);
  const plan = planRetirement(snapshot, versions, config, consumerIdsOf(config), deps.clock.now());
  return { plan, versions, config };
}

/**
 * One managed secret, one tick: report it if overdue, then carry out its retirement plan.
 * Retiring `previous` first claims a short lease on the Secret (compare-and-swap), so an
 * overlapping tick or a starting rotation cannot interleave with the revoke.
 */
export async function retireSecret(
  snapshot: SecretSnapshot,
  deps: RetireDeps,
): Promise<RetirePlan> {
  const log = deps.logger.child({ secret: snapshot.name });
  const overdue = checkOverdue(snapshot, deps.clock.now(), deps.overdueMarginMs);
  const condition = overdue.overdue ? `${overdue.reason}@${overdue.expectedAt ?? ''}` : undefined;
  const changed = deps.overdueMemory?.changed(snapshot.name, condition) ?? overdue.overdue;
  if (overdue.overdue && !changed) {
    log.debug('still overdue (reported before)', { reason: overdue.reason });
  } else if (overdue.overdue) {
    log.error(`rotation overdue: ${overdue.reason}`, {
      event: 'rotation.overdue',
      reason: overdue.reason,
      ...(overdue.expectedAt ? { expectedAt: new Date(overdue.expectedAt).toISOString() } : {}),
    });
  }
  // A scheduled secret whose next_rotation_time is missing or wrong (its schedule changed, a
  // notification fired) gets the next scheduled time: 0 or 1 UpdateSecret.
  snapshot = await syncNextRotationTime(deps.store, snapshot, deps.clock.now(), log);
  // The idle case, decided from the Secret alone: no ListSecretVersions (next-check.ts).
  if (!retireCheckDue(snapshot, deps.clock.now())) {
    return { secret: snapshot.name, actions: [], waiting: 'nothing can be due yet' };
  }
  // The one place that reads the versions: more cleanup (e.g. of a staging place) belongs in the
  // plan, so it is decided and skipped together with the rest.
  const { plan, versions, config } = await planSecret(snapshot, deps);
  if (plan.skipped || plan.waiting)
    log.debug('retirement deferred', { skipped: plan.skipped, waiting: plan.waiting });
  const etagOf = (n: number) => versions.find((v) => v.number === n)?.etag;
  // The staged copies of finished rotations (listed on the Secret: no call when there are none).
  // Their list entries go in retirePrevious' last write when it runs (a write it makes anyway).
  const destroyed = await destroyStaged(
    snapshot,
    { store: deps.store, stagingSecrets: deps.stagingSecrets ?? [] },
    log,
  );
  const retiring = plan.actions.some((a) => a.kind === 'retire-previous');
  if (!retiring) snapshot = await forgetStaged(deps.store, snapshot, destroyed);

  for (const action of plan.actions) {
    if (action.kind === 'retire-previous') {
      await retirePrevious(
        snapshot,
        config,
        action.version,
        action.unconfirmed,
        deps,
        log,
        etagOf(action.version),
        {},
        destroyed,
      );
    } else if (action.kind === 'disable-stale') {
      await deps.store.disableVersion(snapshot.name, action.version, etagOf(action.version));
      log.info('disabled a superseded version', {
        event: 'retire.disabled',
        version: action.version,
      });
    } else {
      await deps.store.destroyVersion(snapshot.name, action.version, etagOf(action.version));
      log.info('destroyed a version beyond retention', {
        event: 'retire.destroyed',
        version: action.version,
        why: action.why,
      });
    }
  }
  if (plan.actions.length === 0 && !plan.skipped) {
    await recordNextCheck(snapshot, versions, config, deps, log);
  }
  return plan;
}

/**
 * Nothing to do: write when the tick must look again (1 UpdateSecret, only when that changed), so
 * the ticks until then skip this secret without listing its versions. A conflict (the Secret
 * changed meanwhile) is left alone: the next tick lists again.
 */
async function recordNextCheck(
  snapshot: SecretSnapshot,
  versions: VersionInfo[],
  config: RotationConfig,
  deps: RetireDeps,
  log: Logger,
): Promise<void> {
  const now = deps.clock.now();
  const at = nextRetireCheck(snapshot, versions, config, consumerIdsOf(config), now);
  const annotations = withRetireCheck(snapshot, at);
  if (annotations[STATE_KEYS.retireCheck] === snapshot.annotations[STATE_KEYS.retireCheck]) return;
  try {
    await deps.store.updateSecret(snapshot, { annotations });
    log.debug('next retirement check recorded', {
      event: 'retire.next-check',
      at: new Date(at).toISOString(),
    });
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
  }
}

/** What retirePrevious did in the database: the retired login, and how many of its sessions ended. */
export interface Retired {
  login?: string;
  /** Only when asked to end sessions (an emergency). */
  sessionsEnded?: number;
}

export interface RetireOptions {
  /**
   * An emergency (a leak): also end the live sessions of the retired login, in the same fenced
   * session as the revoke, so a worker stalled past its `retiring` lease ends nothing (the login
   * may be current again by then). The rotator's own session is spared.
   */
  endSessions?: boolean;
}

/**
 * Retire `previous` (`version`) now: claim the `retiring` lease (compare-and-swap), revoke the
 * credential in the database where the strategy allows (and end its sessions when asked), all
 * inside a session bounded by the lease's deadline, disable the version, then drop the alias and
 * record the retirement. Undefined when the Secret changed before the claim (left to the next
 * tick or delivery). Secret Manager: 1 UpdateSecret to claim, 2 accesses and the admin secret's
 * reads when a session is needed, 1 DisableSecretVersion, 1 UpdateSecret to finish.
 */
export async function retirePrevious(
  snapshot: SecretSnapshot,
  config: RotationConfig,
  version: number,
  unconfirmed: string[],
  deps: RetireDeps,
  log: Logger,
  etag: string | undefined,
  options: RetireOptions = {},
  /** Staged copies destroyed this tick (destroy-staged.ts): dropped from the state here too. */
  stagedDestroyed: readonly StagedRefRecord[] = [],
): Promise<Retired | undefined> {
  const now = deps.clock.now();
  const state = readState(snapshot.annotations);
  const holder = deps.newHolderId();
  let claimed: SecretSnapshot;
  try {
    claimed = await deps.store.updateSecret(snapshot, {
      annotations: withState(snapshot.annotations, {
        ...state,
        retiring: { version, leaseUntil: now + deps.leaseMs, holder },
      }),
    });
  } catch (err) {
    if (err instanceof ConflictError) {
      log.debug('secret changed meanwhile: retirement left to the next tick');
      return undefined;
    }
    throw err;
  }

  if (unconfirmed.length > 0) {
    log.warning(
      'maximum grace reached: retiring although consumers never confirmed their refresh',
      {
        event: 'retire.unconfirmed',
        version,
        consumers: unconfirmed,
      },
    );
  }
  let retired: Retired;
  try {
    retired = await revokeAndDisable(claimed, config, version, etag, deps, log, options, {
      // Fencing: the revoke (and an emergency's end of sessions) must be over before anyone may
      // take the `retiring` lease (or start a rotation, whose pending login may be this one) after
      // it ends.
      at: now + deps.leaseMs - fenceMarginMs(deps.leaseMs),
      now: () => deps.clock.now(),
    });
  } catch (err) {
    // A failed retirement must not keep the secret busy until its lease ends: the next tick
    // retries, and rotation requests are not refused meanwhile.
    await releaseRetiring(deps, claimed.name, holder).catch(() => undefined);
    throw err;
  }

  // Drop the alias (a disabled version cannot be read through it) and record the retirement.
  const retiredAt = deps.clock.now();
  await updateWithRetry(
    deps.store,
    claimed.name,
    (fresh) => {
      const history = readHistory(fresh.annotations).map((h) =>
        h.fromVersion === version && h.outcome === 'succeeded' && h.retiredAt === undefined
          ? { ...h, retiredAt }
          : h,
      );
      return {
        annotations: withState(
          fresh.annotations,
          withoutStaged(withoutOwnRetiring(fresh, holder), stagedDestroyed),
          history,
        ),
        aliases:
          fresh.aliases[ALIASES.previous] === version
            ? applyAliases(fresh.aliases, { remove: [ALIASES.previous] })
            : fresh.aliases,
      };
    },
    claimed,
  );
  log.notice('previous version retired', {
    event: 'retire.version',
    version,
    strategy: config.strategy,
    forced: unconfirmed.length > 0,
  });
  return retired;
}

/**
 * Revoke the retired credential in the database (where the strategy allows; an emergency also ends
 * its sessions, whatever the strategy), then disable its version.
 */
async function revokeAndDisable(
  claimed: SecretSnapshot,
  config: RotationConfig,
  version: number,
  etag: string | undefined,
  deps: RetireDeps,
  log: Logger,
  options: RetireOptions,
  deadline: Deadline,
): Promise<Retired> {
  const current = claimed.aliases[ALIASES.current];
  const strategy = STRATEGY_IMPLS[config.strategy];
  let retired: Retired = {};
  if ((strategy.keepsPrevious || options.endSessions) && current !== undefined) {
    const currentPayload = parsePayload(
      await deps.store.accessVersion(claimed.name, current),
      `version ${current}`,
    );
    const old = parsePayload(
      await deps.store.accessVersion(claimed.name, version),
      `version ${version}`,
    );
    const engine = deps.engineFor(config.engine);
    const admin =
      config.adminSecret === 'self'
        ? credentialOf(currentPayload)
        : await adminCredential(deps.store, config.adminSecret, currentPayload, {
            secret: claimed.name,
            engine: config.engine,
            logins: [
              ...new Set([
                old.username,
                ...rotationLogins(config, currentPayload.username, engine),
              ]),
            ],
          });
    retired = await engine.withSession(
      endpointOf(currentPayload),
      admin,
      async (s) => {
        if (strategy.keepsPrevious) {
          const sessions = await s.countSessions(old.username);
          log.info('revoking the previous credential', {
            event: 'retire.revoke',
            version,
            login: old.username,
            liveSessions: sessions,
            strategy: config.strategy,
          });
          await strategy.revoke(s, credentialOf(old), credentialOf(currentPayload));
        }
        if (!options.endSessions) return { login: old.username };
        return { login: old.username, sessionsEnded: await s.endSessions(old.username) };
      },
      { deadline },
    );
  }
  await deps.store.disableVersion(claimed.name, version, etag);
  return retired;
}

/** The state without our `retiring` lease; someone else's (a later tick's) is left alone. */
function withoutOwnRetiring(snapshot: SecretSnapshot, holder: string): RotationState {
  const { retiring, ...rest } = readState(snapshot.annotations);
  return retiring && retiring.holder !== holder ? { ...rest, retiring } : rest;
}

/** Give the `retiring` lease up, if it is still ours. */
async function releaseRetiring(deps: RetireDeps, name: string, holder: string): Promise<void> {
  await updateWithRetry(deps.store, name, (fresh) => {
    const state = readState(fresh.annotations);
    if (state.retiring?.holder !== holder) return undefined;
    return { annotations: withState(fresh.annotations, withoutOwnRetiring(fresh, holder)) };
  });
}
