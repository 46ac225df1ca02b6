import { exponentialBackoffMs } from '../backoff';
import { invalidArgument } from './errors';
import type { DeliverySettings, ReceivedMessage, StoredMessage } from './model';

/** Something messages are handed to: a StreamingPull stream, a waiting Pull, a push endpoint. */
export interface Consumer {
  /** How long a message handed to this consumer stays leased before it is redelivered. */
  readonly ackDeadlineSeconds: number;
  /** How many more messages it takes now, given how many it holds unacknowledged. */
  capacity(outstanding: number): number;
  deliver(messages: ReceivedMessage[]): void;
  /** The subscription was deleted. */
  detach(): void;
}

interface Lease {
  ackId: string;
  expiresAt: number;
  consumer: Consumer;
}

interface Entry {
  message: StoredMessage;
  /** Deliveries so far. */
  attempts: number;
  /** Not handed out before this time (retry backoff). */
  availableAt: number;
  lease?: Lease;
}

// Push without a retry policy backs off on its own (Pub/Sub documents 100 ms up to 60 s).
const PUSH_MIN_BACKOFF_MS = 100;
const PUSH_MAX_BACKOFF_MS = 60_000;

/**
 * One subscription's backlog with Pub/Sub's at-least-once rules: a delivered message is leased
 * for the consumer's ack deadline; an ack removes it; a nack (deadline 0) or an expired lease makes
 * it deliverable again (after the retry policy's backoff, if any); with a dead-letter policy, a
 * message that has used up its delivery attempts is forwarded instead.
 */
export class SubscriptionQueue {
  private readonly entries = new Map<string, Entry>();
  private readonly leased = new Map<string, Entry>();
  private readonly consumers: Consumer[] = [];
  private ackSeq = 0;
  private nextConsumer = 0;

  constructor(
    readonly name: string,
    readonly delivery: DeliverySettings,
    private readonly now: () => number,
    private readonly deadLetter: (message: StoredMessage, attempts: number) => void,
  ) {}

  get backlog(): number {
    return this.entries.size;
  }

  enqueue(message: StoredMessage): void {
    this.entries.set(message.messageId, { message, attempts: 0, availableAt: this.now() });
    this.dispatch();
  }

  addConsumer(consumer: Consumer): void {
    this.consumers.push(consumer);
    this.dispatch();
  }

  /** The consumer gets nothing more; what it holds stays leased until acked or expired. */
  removeConsumer(consumer: Consumer): void {
    const index = this.consumers.indexOf(consumer);
    if (index >= 0) this.consumers.splice(index, 1);
  }

  acknowledge(ackIds: readonly string[]): void {
    // A well-formed but stale ack id (the lease expired, the message went to someone else) is
    // accepted and ignored, as the official emulator does.
    for (const entry of this.leasesFor(ackIds)) {
      if (entry.lease) this.leased.delete(entry.lease.ackId);
      this.entries.delete(entry.message.messageId);
    }
    this.dispatch();
  }

  modifyAckDeadline(ackIds: readonly string[], seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 600) {
      throw invalidArgument(
        `Invalid ack deadline: ${seconds}; it must be between 0 and 600 seconds.`,
      );
    }
    const now = this.now();
    for (const entry of this.leasesFor(ackIds)) {
      if (!entry.lease) continue;
      if (seconds === 0) this.release(entry, now);
      else entry.lease.expiresAt = now + seconds * 1000;
    }
    this.dispatch();
  }

  /** Expires leases whose deadline passed, then hands out whatever is due. */
  tick(): void {
    const now = this.now();
    for (const entry of [...this.leased.values()]) {
      if (entry.lease && entry.lease.expiresAt <= now) this.release(entry, now);
    }
    this.dispatch();
  }

  /** The subscription is gone: consumers are told, the backlog is dropped. */
  close(): void {
    for (const consumer of this.consumers.splice(0)) consumer.detach();
    this.entries.clear();
    this.leased.clear();
  }

  /** Hands due messages to consumers with room, round-robin, oldest first. */
  dispatch(): void {
    if (this.consumers.length === 0) return;
    const now = this.now();
    const room = new Map(this.consumers.map((c) => [c, c.capacity(this.outstanding(c))]));
    const batches = new Map<Consumer, ReceivedMessage[]>();
    for (const entry of this.entries.values()) {
      if (entry.lease || entry.availableAt > now) continue;
      const consumer = this.pickConsumer(room);
      if (!consumer) break;
      room.set(consumer, (room.get(consumer) ?? 0) - 1);
      const batch = batches.get(consumer) ?? [];
      batch.push(this.lease(entry, consumer, now));
      batches.set(consumer, batch);
    }
    for (const [consumer, batch] of batches) consumer.deliver(batch);
  }

  private pickConsumer(room: Map<Consumer, number>): Consumer | undefined {
    for (let k = 0; k < this.consumers.length; k++) {
      const index = (this.nextConsumer + k) % this.consumers.length;
      const consumer = this.consumers[index];
      if (consumer && (room.get(consumer) ?? 0) > 0) {
        this.nextConsumer = index + 1;
        return consumer;
      }
    }
    return undefined;
  }

  private outstanding(consumer: Consumer): number {
    let count = 0;
    for (const entry of this.leased.values()) if (entry.lease?.consumer === consumer) count++;
    return count;
  }

  private lease(entry: Entry, consumer: Consumer, now: number): ReceivedMessage {
    entry.attempts += 1;
    this.ackSeq += 1;
    const ackId = `${this.name}:${this.ackSeq}`;
    entry.lease = { ackId, expiresAt: now + consumer.ackDeadlineSeconds * 1000, consumer };
    this.leased.set(ackId, entry);
    return {
      ackId,
      message: entry.message,
      deliveryAttempt: this.delivery.deadLetter ? entry.attempts : 0,
    };
  }

  /** Back to the backlog after a failed delivery, or on to the dead-letter topic. */
  private release(entry: Entry, now: number): void {
    if (entry.lease) this.leased.delete(entry.lease.ackId);
    entry.lease = undefined;
    const { deadLetter, retry, pushEndpoint } = this.delivery;
    if (deadLetter && entry.attempts >= deadLetter.maxDeliveryAttempts) {
      this.entries.delete(entry.message.messageId);
      this.deadLetter(entry.message, entry.attempts);
      return;
    }
    let backoff = 0;
    if (retry)
      backoff = exponentialBackoffMs(entry.attempts, retry.minBackoffMs, retry.maxBackoffMs);
    else if (pushEndpoint) {
      backoff = exponentialBackoffMs(entry.attempts, PUSH_MIN_BACKOFF_MS, PUSH_MAX_BACKOFF_MS);
    }
    entry.availableAt = now + backoff;
  }

  /** The live leases behind these ack ids; one malformed id fails the whole request. */
  private leasesFor(ackIds: readonly string[]): Entry[] {
    const prefix = `${this.name}:`;
    for (const ackId of ackIds) {
      if (!ackId.startsWith(prefix) || !/^\d+$/.test(ackId.slice(prefix.length))) {
        throw invalidArgument(`Invalid ack id (ack_id=${ackId})`);
      }
    }
    return ackIds.flatMap((ackId) => this.leased.get(ackId) ?? []);
  }
}
