import { postJson } from '../http-post';
import { formatTimestamp } from '../rfc3339';
import type { ReceivedMessage } from './model';
import type { Consumer, SubscriptionQueue } from './subscription-queue';

// Pub/Sub caps outstanding push requests per subscription adaptively; a fixed small window is
// enough locally and keeps a failing endpoint from being flooded.
const MAX_IN_FLIGHT = 10;

/**
 * The body Pub/Sub POSTs to a push endpoint (wrapped format), as the official emulator sends it:
 * `attributes` always present, snake_case duplicates of messageId/publishTime, `deliveryAttempt`
 * only with a dead-letter policy.
 */
export function pushBody(received: ReceivedMessage, subscription: string): string {
  const { message } = received;
  const publishTime = formatTimestamp(
    Number(message.publishTime.seconds),
    message.publishTime.nanos,
  );
  return JSON.stringify({
    message: {
      data: message.data.toString('base64'),
      attributes: message.attributes,
      messageId: message.messageId,
      message_id: message.messageId,
      publishTime,
      publish_time: publishTime,
      ...(message.orderingKey ? { orderingKey: message.orderingKey } : {}),
    },
    subscription,
    ...(received.deliveryAttempt > 0 ? { deliveryAttempt: received.deliveryAttempt } : {}),
  });
}

/**
 * Delivers a push subscription: any 2xx acknowledges, anything else (or no answer within the ack
 * deadline, Pub/Sub's push timeout) is a nack, which the queue turns into a backed-off redelivery
 * or a dead letter.
 */
export class PushConsumer implements Consumer {
  private readonly abort = new AbortController();

  constructor(
    private readonly queue: SubscriptionQueue,
    private readonly endpoint: string,
  ) {}

  get ackDeadlineSeconds(): number {
    return this.queue.delivery.ackDeadlineSeconds;
  }

  capacity(outstanding: number): number {
    return this.abort.signal.aborted ? 0 : MAX_IN_FLIGHT - outstanding;
  }

  deliver(messages: ReceivedMessage[]): void {
    for (const received of messages) void this.push(received);
  }

  detach(): void {
    this.abort.abort();
  }

  private async push(received: ReceivedMessage): Promise<void> {
    let ok = false;
    try {
      const status = await postJson(
        this.endpoint,
        { 'content-type': 'application/json' },
        pushBody(received, this.queue.name),
        { timeoutMs: this.ackDeadlineSeconds * 1000, signal: this.abort.signal },
      );
      ok = status >= 200 && status < 300;
    } catch {
      // Refused connection, reset, timeout: a failed delivery like any non-2xx answer.
    }
    if (this.abort.signal.aborted) return;
    if (ok) this.queue.acknowledge([received.ackId]);
    else this.queue.modifyAckDeadline([received.ackId], 0);
  }
}
