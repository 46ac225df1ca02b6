import { type ServerDuplexStream, status } from '@grpc/grpc-js';
import { z } from 'zod';
import type { Broker } from './broker';
import { invalidArgument } from './errors';
import type { ReceivedMessage } from './model';
import type { Consumer, SubscriptionQueue } from './subscription-queue';
import { toStatus } from './unary';

const request = z.looseObject({
  subscription: z.string().nullish(),
  ackIds: z.array(z.string()).nullish(),
  modifyDeadlineSeconds: z.array(z.number().int()).nullish(),
  modifyDeadlineAckIds: z.array(z.string()).nullish(),
  streamAckDeadlineSeconds: z.number().int().nullish(),
  maxOutstandingMessages: z.union([z.string(), z.number()]).nullish(),
});
type StreamingPullRequest = z.infer<typeof request>;

function streamAckDeadline(seconds: number): number {
  if (seconds < 10 || seconds > 600) {
    throw invalidArgument('stream_ack_deadline_seconds must be between 10 and 600 seconds');
  }
  return seconds;
}

/**
 * One open StreamingPull stream. Server-side flow control as in Pub/Sub: never more than
 * max_outstanding_messages unacknowledged messages on the stream (0 = no limit).
 * max_outstanding_bytes is not enforced: the client enforces it too.
 */
class StreamConsumer implements Consumer {
  closed = false;

  constructor(
    private readonly call: ServerDuplexStream<unknown, unknown>,
    public ackDeadlineSeconds: number,
    private readonly maxOutstanding: number,
  ) {}

  capacity(outstanding: number): number {
    if (this.closed) return 0;
    return this.maxOutstanding > 0 ? this.maxOutstanding - outstanding : Number.POSITIVE_INFINITY;
  }

  deliver(receivedMessages: ReceivedMessage[]): void {
    this.call.write({
      receivedMessages,
      subscriptionProperties: { exactlyOnceDeliveryEnabled: false, messageOrderingEnabled: false },
    });
  }

  /** The subscription was deleted under the stream: end it the way Pub/Sub does. */
  detach(): void {
    this.closed = true;
    this.call.emit('error', { code: status.NOT_FOUND, details: 'Subscription does not exist' });
  }
}

/** Acks and deadline changes may ride on any request of the stream, the first one included. */
function applyAcks(queue: SubscriptionQueue, req: StreamingPullRequest): void {
  if (req.ackIds?.length) queue.acknowledge(req.ackIds);
  const seconds = req.modifyDeadlineSeconds ?? [];
  const ackIds = req.modifyDeadlineAckIds ?? [];
  if (seconds.length !== ackIds.length) {
    throw invalidArgument('modify_deadline_seconds and modify_deadline_ack_ids differ in length');
  }
  for (const [i, ackId] of ackIds.entries()) queue.modifyAckDeadline([ackId], seconds[i] ?? 0);
}

/**
 * google.pubsub.v1.Subscriber/StreamingPull, the way @google-cloud/pubsub's `on('message')` uses
 * it: the first request names the subscription and the stream's ack deadline; later requests are
 * keep-alives (`{}`), deadline updates, or acks; messages flow to every open stream of the
 * subscription. When the client half-closes, the stream ends with OK.
 */
export function streamingPullHandler(broker: Broker) {
  return (call: ServerDuplexStream<unknown, unknown>): void => {
    let session: { queue: SubscriptionQueue; consumer: StreamConsumer } | undefined;
    let failed = false;

    const close = () => {
      if (!session) return;
      session.consumer.closed = true;
      session.queue.removeConsumer(session.consumer);
      session = undefined;
    };

    call.on('data', (raw: unknown) => {
      if (failed) return;
      try {
        const parsed = request.safeParse(raw);
        if (!parsed.success) throw invalidArgument('Request contains an invalid argument.');
        const req = parsed.data;
        if (!session) {
          const queue = broker.queue(req.subscription);
          const consumer = new StreamConsumer(
            call,
            streamAckDeadline(req.streamAckDeadlineSeconds ?? 0),
            Number(req.maxOutstandingMessages ?? 0),
          );
          applyAcks(queue, req);
          session = { queue, consumer };
          queue.addConsumer(consumer);
          return;
        }
        if (req.streamAckDeadlineSeconds) {
          session.consumer.ackDeadlineSeconds = streamAckDeadline(req.streamAckDeadlineSeconds);
        }
        applyAcks(session.queue, req);
      } catch (err) {
        failed = true;
        close();
        call.emit('error', toStatus(err));
      }
    });
    call.on('end', () => {
      close();
      if (!failed) call.end();
    });
    call.on('cancelled', close);
    call.on('error', () => {
      failed = true;
      close();
    });
  };
}
