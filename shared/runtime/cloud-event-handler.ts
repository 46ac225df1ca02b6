import {
  describeError,
  PermanentError,
  ReportedTransientError,
  RetryLaterError,
  ThrottledError,
  TransientError,
} from '../errors';
import { InvalidEventError } from '../events/pubsub-cloud-event';
import { createLogger, type Logger } from '../logging/logger';
import { SettingsError } from './settings';

/**
 * The boundary every function shares. It decides by the error's class alone (shared/errors.ts):
 *
 * | thrown                         | log line                        | answer               |
 * | ------------------------------ | ------------------------------- | -------------------- |
 * | InvalidEventError              | WARNING `event.invalid`         | ack                  |
 * | PermanentError                 | ERROR `event.rejected`          | ack                  |
 * | SettingsError                  | ERROR `function.misconfigured`  | redeliver            |
 * | ThrottledError                 | INFO `event.throttled`          | redeliver            |
 * | RetryLaterError                | INFO `event.retry-later`        | redeliver            |
 * | ReportedTransientError         | none (the thrower logged it)    | redeliver            |
 * | TransientError                 | WARNING `event.retry`           | redeliver            |
 * | anything else                  | ERROR `event.unexpected`        | redeliver            |
 *
 * "ack" returns (functions-framework answers 204); "redeliver" throws (it answers 500 and Pub/Sub
 * redelivers with backoff, bounded by the rotation's attempt count and the dead-letter policy).
 *
 * A SettingsError is raised while the function builds its dependencies (`getLogger` included),
 * before any event is looked at; it is redelivered, not acked, because the fault is the
 * deployment's, not the event's: a corrected deploy within the retry window processes the event,
 * and after max_delivery_attempts it waits in the dead-letter hold subscription (alerted on) to be
 * republished, instead of a scheduled rotation being dropped without a trace.
 */
export function withErrorBoundary(
  name: string,
  getLogger: () => Logger,
  handler: (event: unknown, log: Logger) => Promise<void>,
): (event: unknown) => Promise<void> {
  return async (event: unknown) => {
    const eventId =
      event && typeof event === 'object' && typeof (event as { id?: unknown }).id === 'string'
        ? (event as { id: string }).id
        : undefined;
    let log: Logger;
    try {
      log = getLogger().child({ function: name });
    } catch (err) {
      // No configured logger without valid settings: the default one (stdout, LOG_LEVEL or INFO)
      // still writes the structured line Cloud Logging needs.
      return settle(err, createLogger().child({ function: name }), eventId);
    }
    try {
      await handler(event, log);
    } catch (err) {
      settle(err, log, eventId);
    }
  };
}

/** Log at most one line for `err` (none if it was already reported) and either return (ack) or throw (redeliver); see withErrorBoundary. */
function settle(err: unknown, log: Logger, eventId: string | undefined): void {
  const error = describeError(err);
  if (err instanceof InvalidEventError) {
    log.warning(`ignored invalid event: ${error.message}`, { event: 'event.invalid', eventId });
    return;
  }
  if (err instanceof PermanentError) {
    log.error(`event rejected: ${error.message}`, { event: 'event.rejected', eventId, error });
    return;
  }
  if (err instanceof SettingsError) {
    log.error(`the function is misconfigured; redeploy with valid settings: ${error.message}`, {
      event: 'function.misconfigured',
      eventId,
      settings: err.settings,
      error,
    });
  } else if (err instanceof ReportedTransientError) {
    // Already told once by the thrower (WARNING `rotation.retry`, the cause included): a second
    // line would repeat the cause for the same failed attempt.
  } else if (err instanceof ThrottledError) {
    // Secret Manager quota: an expected wait, never a failure (no attempt counted, no alert).
    log.info(`Secret Manager quota reached, Pub/Sub will redeliver: ${error.message}`, {
      event: 'event.throttled',
      eventId,
      error,
    });
  } else if (err instanceof RetryLaterError) {
    log.info(`not now, Pub/Sub will redeliver: ${error.message}`, {
      event: 'event.retry-later',
      eventId,
      error,
    });
  } else if (err instanceof TransientError) {
    log.warning(`transient failure, Pub/Sub will redeliver: ${error.message}`, {
      event: 'event.retry',
      eventId,
      error,
    });
  } else {
    log.error(`unexpected failure, Pub/Sub will redeliver: ${error.message}`, {
      event: 'event.unexpected',
      eventId,
      error,
    });
  }
  // functions-framework prints whatever is thrown to stderr before answering 500; the line above
  // already tells the story, so hand it one short line, not a stack trace.
  const retry = new Error(`redelivery requested: ${error.message}`);
  retry.stack = retry.message;
  throw retry;
}
