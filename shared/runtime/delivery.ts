import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import type { Clock } from '../clock';
import type { Logger } from '../logging/logger';
import type { RandomBytes } from '../rotation/password';
import type { SecretStore } from '../secrets/secret-store';
import { withThrottleBackoff } from '../secrets/throttle-backoff';

/**
 * How long one delivery may wait out Secret Manager's quota (ROTATOR_THROTTLE_WAIT) before it
 * hands the event back: well under the functions' 540 s timeout, leaving the rest for the
 * database work and the hand-back write itself.
 */
export const DEFAULT_THROTTLE_WAIT_MS = 180_000;

/** Uniform in [0, 1) from the injected random bytes (48 bits, the precision of a double's use here). */
export function uniformFrom(randomBytes: RandomBytes): () => number {
  return () => randomBytes(6).readUIntBE(0, 6) / 2 ** 48;
}

interface DeliveryDeps {
  store: SecretStore;
  clock: Clock;
  /** Defaults to node:crypto's (the backoff's jitter needs no secrecy, only spread). */
  randomBytes?: RandomBytes;
  logger: Logger;
}

/**
 * The deps of one delivery: the store backs off on Secret Manager's RESOURCE_EXHAUSTED with full
 * jitter until `waitMs` from now (shared/secrets/throttle-backoff.ts), then throws ThrottledError,
 * which the boundary answers with INFO and a redelivery. Built per event, so the time budget is
 * the delivery's, not the instance's.
 */
export function withDeliveryBudget<D extends DeliveryDeps>(
  deps: D,
  waitMs: number = DEFAULT_THROTTLE_WAIT_MS,
): D {
  return {
    ...deps,
    store: withThrottleBackoff(deps.store, {
      clock: deps.clock,
      random: uniformFrom(deps.randomBytes ?? cryptoRandomBytes),
      deadline: deps.clock.now() + waitMs,
      onWait: (op, refusals, delayMs) =>
        deps.logger.debug('Secret Manager quota reached: backing off', {
          event: 'secretmanager.throttled',
          op,
          refusals,
          delayMs,
        }),
    }),
  };
}
