import { describeError, isPermanent } from '../errors';
import { InvalidEventError } from '../events/pubsub-cloud-event';
import type { Logger } from '../logging/logger';

/**
 * The boundary every function shares: classify what went wrong and answer Pub/Sub accordingly.
 * - invalid input (InvalidEventError) and permanent failures: one clear log line, then return,
 *   so the message is acknowledged and never redelivered;
 * - anything else is transient: log a WARNING and rethrow, so functions-framework answers 500 and
 *   Pub/Sub redelivers (bounded by the rotation's attempt count and the dead-letter policy).
 */
export function withErrorBoundary(
  name: string,
  getLogger: () => Logger,
  handler: (event: unknown, log: Logger) => Promise<void>,
): (event: unknown) => Promise<void> {
  return async (event: unknown) => {
    const log = getLogger().child({ function: name });
    const eventId =
      event && typeof event === 'object' && typeof (event as { id?: unknown }).id === 'string'
        ? (event as { id: string }).id
        : undefined;
    try {
      await handler(event, log);
    } catch (err) {
      const error = describeError(err);
      if (err instanceof InvalidEventError) {
        log.warning(`ignored invalid event: ${error.message}`, { event: 'event.invalid', eventId });
        return;
      }
      if (isPermanent(err)) {
        log.error(`event rejected: ${error.message}`, { event: 'event.rejected', eventId, error });
        return;
      }
      log.warning(`transient failure, Pub/Sub will redeliver: ${error.message}`, {
        event: 'event.retry',
        eventId,
        error,
      });
      // functions-framework prints whatever is thrown to stderr before answering 500; our
      // WARNING above already tells the story, so hand it one short line, not a stack trace.
      const retry = new Error(`redelivery requested: ${error.message}`);
      retry.stack = retry.message;
      throw retry;
    }
  };
}
