import type { Message, PubSub, v1 } from '@google-cloud/pubsub';
import { type PubSubHandle, startPubSub } from '../../../emulator/pubsub/start';
import { PROJECT_ID, pubsubClient, subscriberClient, uniqueName } from './clients';
import { startHttpRecorder } from './http-recorder';
import { sleep, waitFor } from './wait-for';

/**
 * What the stand-in does like production Pub/Sub where the official emulator does not (it accepts
 * a dead-letter policy but never forwards), so these run on the stand-in only.
 */
describe('in-process stand-in beyond the official emulator', () => {
  let pubsub: PubSubHandle;
  let client: PubSub;
  let subscriber: v1.SubscriberClient;

  beforeAll(async () => {
    pubsub = await startPubSub({ prefer: 'in-process' });
    client = pubsubClient(pubsub.host);
    subscriber = subscriberClient(pubsub.host);
  });

  afterAll(async () => {
    await subscriber?.close();
    await client?.close();
    await pubsub?.stop();
  });

  test('[in-process stand-in] push with a dead-letter policy: counted attempts, backoff, then forwarded', async () => {
    const endpoint = await startHttpRecorder(() => 503);
    try {
      const [deadLetterTopic] = await client.createTopic(uniqueName('dlq'));
      const [deadLetterSub] = await deadLetterTopic.createSubscription(uniqueName('dlq-sub'));
      const [topic] = await client.createTopic(uniqueName('dlq-source'));
      const subId = uniqueName('dlq-push');
      await topic.createSubscription(subId, {
        pushConfig: { pushEndpoint: `${endpoint.url}/push` },
        deadLetterPolicy: { deadLetterTopic: deadLetterTopic.name, maxDeliveryAttempts: 5 },
        retryPolicy: {
          minimumBackoff: { seconds: 0, nanos: 20_000_000 },
          maximumBackoff: { seconds: 0, nanos: 80_000_000 },
        },
      });
      const id = await topic.publishMessage({
        data: Buffer.from('doomed'),
        attributes: { a: '1' },
      });

      await waitFor('five push attempts', () => endpoint.requests.length >= 5);
      const [dead] = await subscriber.pull({ subscription: deadLetterSub.name, maxMessages: 10 });
      expect(endpoint.requests.map((r) => JSON.parse(r.body).deliveryAttempt)).toEqual([
        1, 2, 3, 4, 5,
      ]);
      expect(endpoint.requests.every((r) => JSON.parse(r.body).message.messageId === id)).toBe(
        true,
      );
      const forwarded = dead.receivedMessages?.[0]?.message;
      expect(Buffer.from(forwarded?.data ?? '').toString()).toBe('doomed');
      expect(forwarded?.messageId).not.toBe(id);
      expect(forwarded?.attributes).toMatchObject({
        a: '1',
        CloudPubSubDeadLetterSourceDeliveryCount: '5',
        CloudPubSubDeadLetterSourceSubscription: subId,
        CloudPubSubDeadLetterSourceSubscriptionProject: PROJECT_ID,
      });
    } finally {
      await endpoint.close();
    }
  });

  test('[in-process stand-in] deleting a subscription ends its StreamingPull with NOT_FOUND', async () => {
    const [topic] = await client.createTopic(uniqueName('gone'));
    const [sub] = await topic.createSubscription(uniqueName('gone-sub'));
    const errors: { code?: number }[] = [];
    const received: Message[] = [];
    sub.on('message', (m: Message) => {
      received.push(m);
      m.ack();
    });
    sub.on('error', (err: { code?: number }) => errors.push(err));
    await topic.publishMessage({ data: Buffer.from('before') });
    await waitFor('the first message', () => received.length === 1);
    // Let the client flush its batched receipt and ack (100 ms batches) before the subscription
    // goes: otherwise those calls fail NOT_FOUND after jest has torn the test down.
    await sleep(300);
    await client.subscription(sub.name).delete();
    await waitFor('the stream error', () => errors.length > 0);
    await sub.close();
    expect(errors[0]?.code).toBe(5);
  });
});
