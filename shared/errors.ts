/**
 * The error family: everything the product throws on purpose is a RotatorError, and its class alone
 * decides what the function boundary (shared/runtime/cloud-event-handler.ts) does with it:
 * - PermanentError: retrying cannot help (unknown secret, bad config). One ERROR line, ack.
 *   - InvalidEventError (shared/events/pubsub-cloud-event.ts): the event itself is malformed.
 *     One WARNING line, ack.
 * - TransientError: the world may heal (database down, Secret Manager UNAVAILABLE, Databricks 429).
 *   One WARNING line, then Pub/Sub redelivers; attempts are bounded by the rotation state and the
 *   dead-letter policy, not by hope.
 *   - RetryLaterError: an expected wait (another worker holds the secret). INFO, redelivered.
 *     - ThrottledError: Secret Manager refused a call for quota (RESOURCE_EXHAUSTED) and the
 *       in-delivery backoff ran out of time. INFO, redelivered; never counts as a rotation attempt.
 *   - ReportedTransientError: already logged by the code that threw it (the rotator's WARNING
 *     `rotation.retry`). No second line, redelivered: one failed attempt, one log line.
 * - SettingsError (shared/runtime/settings.ts): the deployment is misconfigured, whatever the
 *   event. One ERROR line per event, redelivered, so a fixed deploy processes what arrived.
 * Anything else reaching the boundary (a plain Error, a RotatorError of no subclass) is a bug or
 * an unclassified library failure: ERROR, redelivered, bounded by the dead-letter policy.
 * Messages never carry secret values: callers pass names and codes, and keep the driver error as
 * `cause` (which the logger reduces to its name and code).
 */
export type ErrorContext = Record<string, string | number | boolean | undefined>;

export interface RotatorErrorOptions {
  cause?: unknown;
  context?: ErrorContext;
}

export class RotatorError extends Error {
  readonly context: ErrorContext;

  constructor(message: string, options: RotatorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RotatorError';
    this.context = options.context ?? {};
  }
}

export class PermanentError extends RotatorError {
  constructor(message: string, options?: RotatorErrorOptions) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

export class TransientError extends RotatorError {
  constructor(message: string, options?: RotatorErrorOptions) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/**
 * An expected wait, not a fault: another worker holds the secret (a duplicate delivery, a
 * retirement in progress) or a rule says "not yet" (the grace window). Pub/Sub redelivers as for
 * any transient failure, but the boundary logs it at INFO, so `severity>=WARNING` in Logs
 * Explorer keeps meaning that something is wrong. (Temporal's "benign" failure category.)
 */
export class RetryLaterError extends TransientError {
  constructor(message: string, options?: RotatorErrorOptions) {
    super(message, options);
    this.name = 'RetryLaterError';
  }
}

/**
 * Secret Manager answered RESOURCE_EXHAUSTED (a per-project read/write quota per minute or a
 * per-secret write rate, secret-manager/quotas) and backing off within this delivery
 * (shared/secrets/throttle-backoff.ts) did not get the call through. Throttling is not failure:
 * it never counts as one of a rotation's attempts nor marks a secret failed; the boundary logs
 * INFO and Pub/Sub redelivers. The quota front end refuses before the service acts, so the refused
 * call changed nothing and is safe to repeat (AddSecretVersion included).
 */
export class ThrottledError extends RetryLaterError {
  constructor(message: string, options?: RotatorErrorOptions) {
    super(message, options);
    this.name = 'ThrottledError';
  }
}

/**
 * A transient failure whose story is already told: the thrower logged one line naming the cause
 * (the rotator's WARNING `rotation.retry`: step, attempt, error). The boundary redelivers it and
 * logs nothing more, so one failed attempt is one log line with the cause once. The original error
 * stays the `cause`; the message is the thrower's description of it.
 */
export class ReportedTransientError extends TransientError {
  constructor(message: string, options?: RotatorErrorOptions) {
    super(message, options);
    this.name = 'ReportedTransientError';
  }
}

/** Someone else changed the Secret between our read and our write (etag mismatch). */
export class ConflictError extends TransientError {
  constructor(message: string, options?: RotatorErrorOptions) {
    super(message, options);
    this.name = 'ConflictError';
  }
}

export const isPermanent = (err: unknown): err is PermanentError => err instanceof PermanentError;

/** A short, value-free description of any thrown thing, for log lines. */
export function describeError(err: unknown): { name: string; message: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      ...(code === undefined ? {} : { code: String(code) }),
    };
  }
  return { name: 'NonError', message: String(err) };
}
