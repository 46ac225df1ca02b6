import type { ReceivedMessage, StoredMessage } from '../../../emulator/pubsub/stand-in/model';
import {
  type Consumer,
  SubscriptionQueue,
} from '../../../emulator/pubsub/stand-in/subscription-queue';

const NAME = 'projects/p/subscriptions/sub';

function message(id: string): StoredMessage {
  return {
    messageId: id,
    data: Buffer.from(`data-${id}`),
    attributes: {},
    publishTime: { seconds: '1', nanos: 0 },
    orderingKey: '',
  };
}

/** A consumer that records what it gets and takes at most `limit` unacked messages. */
function recorder(limit = 100, ackDeadlineSeconds = 10) {
  const got: ReceivedMessage[] = [];
  const consumer: Consumer & { got: ReceivedMessage[]; detached: boolean } = {
    got,
    detached: false,
    ackDeadlineSeconds,
    capacity: (outstanding) => limit - outstanding,
    deliver: (messages) => {
      got.push(...messages);
    },
    detach() {
      this.detached = true;
    },
  };
  return consumer;
}

function setup(
  delivery: ConstructorParameters<typeof SubscriptionQueue>[1] = { ackDeadlineSeconds: 10 },
) {
  let now = 1_000_000;
  const deadLetters: { id: string; attempts: number }[] = [];
  const queue = new SubscriptionQueue(
    NAME,
    delivery,
    () => now,
    (m, attempts) => deadLetters.push({ id: m.messageId, attempts }),
  );
  return {
    queue,
    deadLetters,
    advance: (ms: number) => {
      now += ms;
      queue.tick();
    },
  };
}

describe('SubscriptionQueue (at-least-once delivery)', () => {
  test('delivers, and an ack removes the message for good', () => {
    const { queue, advance } = setup();
    const c = recorder();
    queue.addConsumer(c);
    queue.enqueue(message('1'));
    expect(c.got.map((r) => [r.ackId, r.message.messageId, r.deliveryAttempt])).toEqual([
      [`${NAME}:1`, '1', 0],
    ]);
    queue.acknowledge([`${NAME}:1`]);
    advance(60_000);
    expect(c.got).toHaveLength(1);
    expect(queue.backlog).toBe(0);
  });

  test('an expired lease is redelivered with a new ack id; the stale ack id is ignored', () => {
    const { queue, advance } = setup();
    const c = recorder();
    queue.addConsumer(c);
    queue.enqueue(message('1'));
    advance(9_999);
    expect(c.got).toHaveLength(1);
    advance(1);
    expect(c.got.map((r) => r.ackId)).toEqual([`${NAME}:1`, `${NAME}:2`]);
    queue.acknowledge([`${NAME}:1`]);
    expect(queue.backlog).toBe(1);
    queue.acknowledge([`${NAME}:2`]);
    expect(queue.backlog).toBe(0);
  });

  test('modifyAckDeadline extends a lease; 0 is a nack and redelivers at once', () => {
    const { queue, advance } = setup();
    const c = recorder();
    queue.addConsumer(c);
    queue.enqueue(message('1'));
    queue.modifyAckDeadline([`${NAME}:1`], 60);
    advance(30_000);
    expect(c.got).toHaveLength(1);
    queue.modifyAckDeadline([`${NAME}:1`], 0);
    expect(c.got.map((r) => r.message.messageId)).toEqual(['1', '1']);
  });

  test('malformed ack ids fail the whole request; deadlines outside 0..600 are refused', () => {
    const { queue } = setup();
    const c = recorder();
    queue.addConsumer(c);
    queue.enqueue(message('1'));
    expect(() => queue.acknowledge([`${NAME}:1`, 'garbage'])).toThrow(
      'Invalid ack id (ack_id=garbage)',
    );
    expect(queue.backlog).toBe(1);
    expect(() => queue.acknowledge(['projects/p/subscriptions/other:1'])).toThrow(/Invalid ack id/);
    expect(() => queue.modifyAckDeadline([`${NAME}:1`], 601)).toThrow(/between 0 and 600/);
  });

  test('a retry policy backs redeliveries off exponentially', () => {
    const { queue, advance } = setup({
      ackDeadlineSeconds: 10,
      retry: { minBackoffMs: 1_000, maxBackoffMs: 3_000 },
    });
    const c = recorder();
    queue.addConsumer(c);
    queue.enqueue(message('1'));
    const nackLatest = () => queue.modifyAckDeadline([c.got.at(-1)?.ackId ?? ''], 0);
    nackLatest();
    advance(999);
    expect(c.got).toHaveLength(1);
    advance(1);
    expect(c.got).toHaveLength(2);
    nackLatest();
    advance(1_999);
    expect(c.got).toHaveLength(2);
    advance(1);
    expect(c.got).toHaveLength(3);
    nackLatest();
    advance(3_000);
    expect(c.got).toHaveLength(4);
  });

  test('with a dead-letter policy, attempts are counted and the last failure forwards', () => {
    const { queue, deadLetters } = setup({
      ackDeadlineSeconds: 10,
      deadLetter: { topic: 'projects/p/topics/dlt', maxDeliveryAttempts: 5 },
    });
    const c = recorder();
    queue.addConsumer(c);
    queue.enqueue(message('1'));
    for (let i = 0; i < 5; i++) queue.modifyAckDeadline([c.got.at(-1)?.ackId ?? ''], 0);
    expect(c.got.map((r) => r.deliveryAttempt)).toEqual([1, 2, 3, 4, 5]);
    expect(deadLetters).toEqual([{ id: '1', attempts: 5 }]);
    expect(queue.backlog).toBe(0);
  });

  test('flow control and round-robin across consumers; oldest first', () => {
    const { queue } = setup();
    const a = recorder(2);
    const b = recorder(1);
    queue.addConsumer(a);
    queue.addConsumer(b);
    for (const id of ['1', '2', '3', '4', '5']) queue.enqueue(message(id));
    expect(a.got.map((r) => r.message.messageId)).toEqual(['1', '3']);
    expect(b.got.map((r) => r.message.messageId)).toEqual(['2']);
    queue.acknowledge([b.got[0]?.ackId ?? '']);
    expect(b.got.map((r) => r.message.messageId)).toEqual(['2', '4']);
    expect(queue.backlog).toBe(4);
  });

  test('a removed consumer keeps its leases until they expire; close detaches consumers', () => {
    const { queue, advance } = setup();
    const a = recorder();
    queue.addConsumer(a);
    queue.enqueue(message('1'));
    queue.removeConsumer(a);
    const b = recorder();
    queue.addConsumer(b);
    expect(b.got).toHaveLength(0);
    advance(10_000);
    expect(b.got.map((r) => r.message.messageId)).toEqual(['1']);
    queue.close();
    expect(b.detached).toBe(true);
    expect(queue.backlog).toBe(0);
  });

  test('push subscriptions back off on their own without a retry policy', () => {
    const { queue, advance } = setup({ ackDeadlineSeconds: 10, pushEndpoint: 'http://x/' });
    const c = recorder();
    queue.addConsumer(c);
    queue.enqueue(message('1'));
    queue.modifyAckDeadline([`${NAME}:1`], 0);
    expect(c.got).toHaveLength(1);
    advance(100);
    expect(c.got).toHaveLength(2);
  });
});
