import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import type { Broker } from './broker';
import { invalidArgument } from './errors';
import type { ReceivedMessage } from './model';
import type { Consumer } from './subscription-queue';
import { toStatus } from './unary';

/**
 * How long a Pull with nothing to return waits for a message. Pub/Sub holds such a Pull open for a
 * while (the official emulator ~20 s); a shorter wait keeps test runs and shutdowns quick.
 */
const PULL_WAIT_MS = 5_000;

interface PullRequest {
  subscription?: string;
  maxMessages?: number;
  returnImmediately?: boolean;
}

/** A one-shot consumer: the first batch (or the end of the wait) answers the Pull. */
class PullConsumer implements Consumer {
  private finished = false;

  constructor(
    readonly ackDeadlineSeconds: number,
    private readonly maxMessages: number,
    private readonly answer: (messages: ReceivedMessage[]) => void,
  ) {}

  get done(): boolean {
    return this.finished;
  }

  capacity(): number {
    return this.finished ? 0 : this.maxMessages;
  }

  deliver(messages: ReceivedMessage[]): void {
    this.finish(messages);
  }

  detach(): void {
    this.finish([]);
  }

  private finish(messages: ReceivedMessage[]): void {
    if (this.finished) return;
    this.finished = true;
    this.answer(messages);
  }
}

export function pullHandler(broker: Broker) {
  return (
    call: ServerUnaryCall<PullRequest, unknown>,
    callback: sendUnaryData<{ receivedMessages: ReceivedMessage[] }>,
  ): void => {
    try {
      const { subscription, maxMessages, returnImmediately } = call.request;
      const queue = broker.queue(subscription);
      if (!maxMessages || maxMessages <= 0) throw invalidArgument('max_messages must be positive');
      let timer: NodeJS.Timeout | undefined;
      const consumer: PullConsumer = new PullConsumer(
        queue.delivery.ackDeadlineSeconds,
        maxMessages,
        (receivedMessages) => {
          clearTimeout(timer);
          queue.removeConsumer(consumer);
          callback(null, { receivedMessages });
        },
      );
      queue.addConsumer(consumer);
      if (consumer.done) return;
      if (returnImmediately) {
        consumer.detach();
        return;
      }
      timer = setTimeout(() => consumer.detach(), PULL_WAIT_MS);
      call.on('cancelled', () => consumer.detach());
    } catch (err) {
      callback(toStatus(err));
    }
  };
}
