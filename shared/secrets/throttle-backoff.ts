import type { Clock } from '../clock';
import { ThrottledError } from '../errors';
import type { SecretStore } from './secret-store';

/**
 * Waiting out Secret Manager's quota inside one delivery, before handing the event back.
 *
 * A call refused with RESOURCE_EXHAUSTED (ThrottledError) is repeated after a "full jitter" wait
 * (AWS Architecture Blog, "Exponential Backoff And Jitter": uniform in [0, min(cap, base * 2^n)]),
 * which spreads a fleet of throttled workers over the quota window instead of having them retry in
 * step. It stops when the next wait would end after the delivery's deadline (the function's time),
 * and rethrows the ThrottledError: the boundary then hands the event back for redelivery (INFO).
 * Safe for every method: the quota front end refuses before the service acts.
 *
 * Own code rather than a library: the project's reasons in shared/databricks/retry.ts hold here
 * too (p-retry and cockatiel are ESM-only; async-retry and exponential-backoff sleep on real
 * timers, with no injected clock and no deadline); gax's own retry (AccessSecretVersion only)
 * has a 600 s budget that does not know the function's remaining time.
 */
export interface ThrottleBackoffPolicy {
  /** First wait ceiling, ms; doubles per refusal of the same call up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * Retries each call gets once the budget is spent (a call stopped where its next wait would
   * cross the deadline, or the deadline passed), so the hand-back write itself (a rotation giving
   * its lease up without counting an attempt) gets through a busy minute.
   */
  triesAfterDeadline: number;
}

/** Secret Manager's quota windows are a minute; a few seconds per wait keeps calls flowing. */
export const DEFAULT_THROTTLE_BACKOFF: ThrottleBackoffPolicy = {
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  // Ceilings 0.5, 1, 2, 4, then 8 s: about 20 s expected, a third of a quota minute, so the
  // hand-back write gets through a saturated window (a refused one costs the rotation an attempt).
  triesAfterDeadline: 8,
};

export interface ThrottleBackoffDeps {
  clock: Clock;
  /** Uniform in [0, 1). */
  random: () => number;
  /** Epoch ms (on `clock`) after which no wait may end: the delivery's time budget. */
  deadline: number;
  policy?: ThrottleBackoffPolicy;
  /** Told about each wait (op, refusals so far, ms), for a DEBUG line or a counter. */
  onWait?: (op: string, refusals: number, delayMs: number) => void;
}

/** The full-jitter wait after the `refusals`-th refusal (1-based) of one call. */
export function fullJitterDelay(
  refusals: number,
  policy: ThrottleBackoffPolicy,
  random: () => number,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (refusals - 1));
  return Math.floor(random() * ceiling);
}

/** `store` with every call backed off on ThrottledError within `deps.deadline` (see above). */
export function withThrottleBackoff(store: SecretStore, deps: ThrottleBackoffDeps): SecretStore {
  const policy = deps.policy ?? DEFAULT_THROTTLE_BACKOFF;
  let spent = false;
  const retrying =
    <K extends keyof SecretStore>(op: K) =>
    async (...args: Parameters<SecretStore[K]>): Promise<Awaited<ReturnType<SecretStore[K]>>> => {
      const call = store[op] as (
        ...a: Parameters<SecretStore[K]>
      ) => Promise<Awaited<ReturnType<SecretStore[K]>>>;
      // Once the budget is spent (a call handed the delivery back, or the deadline passed),
      // every later call is the hand-back write or what follows it: a few tries each.
      const late = spent || deps.clock.now() >= deps.deadline;
      for (let refusals = 1; ; refusals++) {
        try {
          return await call.apply(store, args);
        } catch (err) {
          if (!(err instanceof ThrottledError)) throw err;
          const delay = fullJitterDelay(refusals, policy, deps.random);
          if (
            late ? refusals > policy.triesAfterDeadline : deps.clock.now() + delay > deps.deadline
          ) {
            spent = true;
            throw err;
          }
          deps.onWait?.(op, refusals, delay);
          await deps.clock.sleep(delay);
        }
      }
    };
  return {
    getSecret: retrying('getSecret'),
    listSecrets: retrying('listSecrets'),
    updateSecret: retrying('updateSecret'),
    addVersion: retrying('addVersion'),
    accessVersion: retrying('accessVersion'),
    listVersions: retrying('listVersions'),
    disableVersion: retrying('disableVersion'),
    enableVersion: retrying('enableVersion'),
    destroyVersion: retrying('destroyVersion'),
  };
}
