import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Message, PubSub, v1 } from '@google-cloud/pubsub';
import { startEventarcBridge } from '../../../emulator/pubsub/eventarc-bridge';
import type { PubSubHandle, PubSubKind } from '../../../emulator/pubsub/start';
import { createLogger, memorySink } from '../../../shared/logging/logger';
import { PROJECT_ID, pubsubClient, subscriberClient, uniqueName } from './clients';
import { startHttpRecorder } from './http-recorder';
import { sleep, waitFor } from './wait-for';

// Loaded with require, as a deployed function does: jest gives each test file its own copy.
const functionsFramework =
  require('@google-cloud/functions-framework') as typeof import('@google-cloud/functions-framework');
const { getTestServer } =
  require('@google-cloud/functions-framework/testing') as typeof import('@google-cloud/functions-framework/testing');

interface ReceivedEvent {
  specversion?: string;
  id?: string;
  source?: string;
  type?: string;
  time?: string;
  data?: {
    message?: {
      data?: string;
      attributes?: Record<string, string>;
      messageId?: string;
      message_id?: string;
      publishTime?: string;
      publish_time?: string;
    };
    subscription?: string;
  };
}

/** Registers a CloudEvent function and serves it in-process on 127.0.0.1, as in the e2e tests. */
async function serveFunction(
  name: string,
  handler: (event: ReceivedEvent) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  // One parameter only: functions-framework treats a longer handler as callback-style.
  functionsFramework.cloudEvent(name, (event: unknown) => handler(event as ReceivedEvent));
  const server: Server = getTestServer(name);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const decode = (data: string | undefined) => Buffer.from(data ?? '', 'base64').toString('utf8');

/**
 * The Pub/Sub behaviour this project relies on, run unchanged against whichever backend `start`
 * brings up; every test name says which backend ran.
 */
export function describePubSubScenarios(
  label: string,
  expectedKind: PubSubKind,
  start: () => Promise<PubSubHandle>,
): void {
  describe(`Pub/Sub on the ${label}`, () => {
    let pubsub: PubSubHandle;
    let client: PubSub;
    let subscriber: v1.SubscriberClient;

    beforeAll(async () => {
      pubsub = await start();
      client = pubsubClient(pubsub.host);
      subscriber = subscriberClient(pubsub.host);
    });

    afterAll(async () => {
      await subscriber?.close();
      await client?.close();
      await pubsub?.stop();
    });

    test(`[${label}] runs the expected backend`, () => {
      expect(pubsub.kind).toBe(expectedKind);
      expect(pubsub.host).toMatch(/^127\.0\.0\.1:\d+$/);
    });

    test(`[${label}] official client: topics, subscriptions, publish with attributes, pull and ack`, async () => {
      const topicId = uniqueName('admin');
      const [topic] = await client.createTopic(topicId);
      await expect(client.createTopic(topicId)).rejects.toMatchObject({ code: 6 });
      const [sub] = await topic.createSubscription(uniqueName('admin-sub'));
      const [meta] = await sub.getMetadata();
      expect(meta.topic).toBe(topic.name);
      expect(meta.ackDeadlineSeconds).toBe(10);
      const [topics] = await client.getTopics();
      expect(topics.map((t) => t.name)).toContain(topic.name);
      const [subs] = await client.getSubscriptions();
      expect(subs.map((s) => s.name)).toContain(sub.name);

      const before = Date.now();
      const attributes = { eventType: 'SECRET_ROTATE', secretId: 'projects/p/secrets/db' };
      const id = await topic.publishMessage({ data: Buffer.from('{"n":1}'), attributes });
      const [pulled] = await subscriber.pull({ subscription: sub.name, maxMessages: 10 });
      expect(pulled.receivedMessages).toHaveLength(1);
      const received = pulled.receivedMessages?.[0];
      expect(received?.message?.messageId).toBe(id);
      expect(Buffer.from(received?.message?.data ?? '').toString()).toBe('{"n":1}');
      expect(received?.message?.attributes).toEqual(attributes);
      const publishedAt = Number(received?.message?.publishTime?.seconds) * 1000;
      expect(publishedAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
      expect(publishedAt).toBeLessThanOrEqual(Date.now());

      await subscriber.acknowledge({ subscription: sub.name, ackIds: [received?.ackId ?? ''] });
      const [after] = await subscriber.pull({
        subscription: sub.name,
        maxMessages: 10,
        returnImmediately: true,
      });
      expect(after.receivedMessages ?? []).toHaveLength(0);

      await expect(
        client.topic(uniqueName('missing')).publishMessage({ data: Buffer.from('x') }),
      ).rejects.toMatchObject({ code: 5 });
      await sub.delete();
      await expect(sub.getMetadata()).rejects.toMatchObject({ code: 5 });
      await topic.delete();
      await expect(topic.getMetadata()).rejects.toMatchObject({ code: 5 });
    });

    test(`[${label}] refusals carry the same gRPC codes`, async () => {
      const topicId = uniqueName('codes');
      const [topic] = await client.createTopic(topicId);
      await expect(client.createTopic('ab')).rejects.toMatchObject({ code: 3 });
      const subId = uniqueName('codes-sub');
      const [sub] = await topic.createSubscription(subId);
      await expect(topic.createSubscription(subId)).rejects.toMatchObject({ code: 6 });
      await expect(client.subscription(uniqueName('nope')).getMetadata()).rejects.toMatchObject({
        code: 5,
      });
      await expect(
        topic.createSubscription(uniqueName('codes-dlq'), {
          deadLetterPolicy: { deadLetterTopic: topic.name, maxDeliveryAttempts: 2 },
        }),
      ).rejects.toMatchObject({
        code: 11,
        details:
          'The value for max_delivery_attempts is too small. You passed 2 in the request, but the minimum value is 5.',
      });
      await expect(
        subscriber.acknowledge({ subscription: sub.name, ackIds: ['garbage'] }),
      ).rejects.toMatchObject({ code: 3 });
      // A subscription only sees messages published after it exists.
      await topic.publishMessage({ data: Buffer.from('early') });
      const [late] = await topic.createSubscription(uniqueName('codes-late'));
      const [none] = await subscriber.pull({
        subscription: late.name,
        maxMessages: 10,
        returnImmediately: true,
      });
      expect(none.receivedMessages ?? []).toHaveLength(0);
    });

    test(`[${label}] StreamingPull: subscription.on('message') receives every message once`, async () => {
      const [topic] = await client.createTopic(uniqueName('stream'));
      const [sub] = await topic.createSubscription(uniqueName('stream-sub'));
      const received: Message[] = [];
      sub.on('message', (message: Message) => {
        received.push(message);
        message.ack();
      });
      const ids = await Promise.all(
        [1, 2, 3].map((n) =>
          topic.publishMessage({ data: Buffer.from(`m${n}`), attributes: { n: String(n) } }),
        ),
      );
      await waitFor('three messages', () => received.length >= 3);
      await sub.close();
      expect(received.map((m) => m.id).sort()).toEqual([...ids].sort());
      for (const message of received) {
        expect(message.data.toString()).toBe(`m${message.attributes.n}`);
      }
      const [left] = await subscriber.pull({
        subscription: sub.name,
        maxMessages: 10,
        returnImmediately: true,
      });
      expect(left.receivedMessages ?? []).toHaveLength(0);
      expect(received).toHaveLength(3);
    });

    test(`[${label}] a nacked message is redelivered`, async () => {
      const [topic] = await client.createTopic(uniqueName('nack'));
      const [sub] = await topic.createSubscription(uniqueName('nack-sub'));
      const deliveries: Message[] = [];
      sub.on('message', (message: Message) => {
        deliveries.push(message);
        if (deliveries.length === 1) message.nack();
        else message.ack();
      });
      const id = await topic.publishMessage({ data: Buffer.from('again') });
      await waitFor('the redelivery', () => deliveries.length >= 2);
      await sub.close();
      expect(deliveries.map((m) => m.id)).toEqual([id, id]);
      expect(deliveries[1]?.ackId).not.toBe(deliveries[0]?.ackId);
    });

    test(`[${label}] an unacked message is redelivered after its ack deadline`, async () => {
      const [topic] = await client.createTopic(uniqueName('lease'));
      const [sub] = await topic.createSubscription(uniqueName('lease-sub'));
      const id = await topic.publishMessage({ data: Buffer.from('lease') });
      const [first] = await subscriber.pull({ subscription: sub.name, maxMessages: 1 });
      const ackId = first.receivedMessages?.[0]?.ackId ?? '';
      expect(first.receivedMessages?.[0]?.message?.messageId).toBe(id);
      // Shorten the lease to 1 s instead of waiting out the 10 s default.
      await subscriber.modifyAckDeadline({
        subscription: sub.name,
        ackIds: [ackId],
        ackDeadlineSeconds: 1,
      });
      const [leased] = await subscriber.pull({
        subscription: sub.name,
        maxMessages: 1,
        returnImmediately: true,
      });
      expect(leased.receivedMessages ?? []).toHaveLength(0);
      await sleep(1_200);
      const [again] = await subscriber.pull({ subscription: sub.name, maxMessages: 1 });
      expect(again.receivedMessages?.[0]?.message?.messageId).toBe(id);
      expect(again.receivedMessages?.[0]?.ackId).not.toBe(ackId);
      await subscriber.acknowledge({
        subscription: sub.name,
        ackIds: [again.receivedMessages?.[0]?.ackId ?? ''],
      });
    });

    test(`[${label}] push subscription: 500 is redelivered, 2xx acknowledges`, async () => {
      const topicId = uniqueName('push');
      const endpoint = await startHttpRecorder((_request, index) => (index === 0 ? 500 : 204));
      try {
        const [topic] = await client.createTopic(topicId);
        const [sub] = await topic.createSubscription(uniqueName('push-sub'), {
          pushConfig: {
            pushEndpoint: `${endpoint.url}/projects/${PROJECT_ID}/topics/${topicId}`,
          },
        });
        const id = await topic.publishMessage({
          data: Buffer.from('pushed'),
          attributes: { kind: 'push' },
        });
        await waitFor('a failed then a successful push', () => endpoint.requests.length >= 2);
        // Long enough for the official emulator's ~1 s push retry to show up if it were not acked.
        await sleep(1_500);
        await sub.delete();
        expect(endpoint.requests).toHaveLength(2);
        for (const request of endpoint.requests) {
          expect(request.url).toBe(`/projects/${PROJECT_ID}/topics/${topicId}`);
          expect(request.headers['content-type']).toMatch(/^application\/json/);
          const body = JSON.parse(request.body);
          expect(body.subscription).toBe(sub.name);
          expect(decode(body.message.data)).toBe('pushed');
          expect(body.message.attributes).toEqual({ kind: 'push' });
          expect(body.message.messageId).toBe(id);
          expect(body.message.message_id).toBe(id);
          expect(body.message.publishTime).toBe(body.message.publish_time);
          expect(Number.isNaN(Date.parse(body.message.publishTime))).toBe(false);
        }
      } finally {
        await endpoint.close();
      }
    });

    test(`[${label}] eventarc bridge delivers binary-mode CloudEvents to a functions-framework function`, async () => {
      const topicId = uniqueName('eventarc');
      const events: ReceivedEvent[] = [];
      const fn = await serveFunction(`probe-${expectedKind}`, (event) => {
        events.push(event);
      });
      const bridge = await startEventarcBridge({
        pubsubHost: pubsub.host,
        projectId: PROJECT_ID,
        topic: topicId,
        targetUrl: fn.url,
        minBackoffMs: 50,
        maxBackoffMs: 200,
        logger: createLogger({ sink: memorySink() }),
      });
      try {
        const topic = client.topic(topicId);
        const withAttributes = await topic.publishMessage({
          data: Buffer.from('{"secret":"projects/p/secrets/db"}'),
          attributes: { eventType: 'SECRET_ROTATE' },
        });
        const bare = await topic.publishMessage({ data: Buffer.from('{}') });
        await waitFor('two CloudEvents', () => events.length >= 2);
        await waitFor('two acks', () => bridge.delivered >= 2);

        const byId = new Map(events.map((e) => [e.id, e]));
        const first = byId.get(withAttributes);
        expect(first).toMatchObject({
          specversion: '1.0',
          id: withAttributes,
          type: 'google.cloud.pubsub.topic.v1.messagePublished',
          source: `//pubsub.googleapis.com/projects/${PROJECT_ID}/topics/${topicId}`,
          data: {
            message: {
              attributes: { eventType: 'SECRET_ROTATE' },
              messageId: withAttributes,
              message_id: withAttributes,
            },
            subscription: bridge.subscription,
          },
        });
        expect(decode(first?.data?.message?.data)).toBe('{"secret":"projects/p/secrets/db"}');
        expect(first?.time).toBe(first?.data?.message?.publishTime);
        expect(first?.data?.message?.publish_time).toBe(first?.data?.message?.publishTime);
        expect(bridge.subscription).toBe(
          `projects/${PROJECT_ID}/subscriptions/eventarc-local-${topicId}`,
        );

        const second = byId.get(bare);
        expect(second?.data?.message).not.toHaveProperty('attributes');
        expect(decode(second?.data?.message?.data)).toBe('{}');
        expect(bridge.failedAttempts).toBe(0);
      } finally {
        await bridge.stop();
        await fn.close();
      }
    });

    test(`[${label}] eventarc bridge: a throwing handler is retried with backoff, then dead-lettered`, async () => {
      const topicId = uniqueName('poison');
      const deadLetterId = uniqueName('poison-dlt');
      const [deadLetterTopic] = await client.createTopic(deadLetterId);
      const [deadLetterSub] = await deadLetterTopic.createSubscription(uniqueName('dlt-sub'));
      const calls: { id: string; kind: string; at: number }[] = [];
      const fn = await serveFunction(`poison-${expectedKind}`, (event) => {
        const kind = event.data?.message?.attributes?.kind ?? '';
        calls.push({ id: event.id ?? '', kind, at: Date.now() });
        const earlier = calls.filter((c) => c.id === event.id).length;
        if (kind === 'poison' || earlier === 1) throw new Error(`refusing ${kind}`);
      });
      // functions-framework reports each crash on console.error: expected here, and asserted below.
      const consoleError = jest.spyOn(console, 'error').mockImplementation(() => {});
      const sink = memorySink();
      const bridge = await startEventarcBridge({
        pubsubHost: pubsub.host,
        projectId: PROJECT_ID,
        topic: topicId,
        targetUrl: fn.url,
        maxDeliveryAttempts: 3,
        minBackoffMs: 100,
        maxBackoffMs: 150,
        deadLetterTopic: deadLetterId,
        logger: createLogger({ sink, minSeverity: 'DEBUG' }),
      });
      try {
        const topic = client.topic(topicId);
        const poison = await topic.publishMessage({
          data: Buffer.from('never works'),
          attributes: { kind: 'poison' },
        });
        const flaky = await topic.publishMessage({
          data: Buffer.from('works the second time'),
          attributes: { kind: 'flaky' },
        });
        await waitFor('the dead letter', () => bridge.deadLettered === 1);
        await waitFor('the flaky message', () => bridge.delivered === 1);

        const poisonCalls = calls.filter((c) => c.id === poison);
        expect(poisonCalls).toHaveLength(3);
        const [a, b, c] = poisonCalls.map((call) => call.at);
        // 100 ms, then 150 ms (doubling, capped); a little slack for timer granularity.
        expect((b ?? 0) - (a ?? 0)).toBeGreaterThanOrEqual(90);
        expect((c ?? 0) - (b ?? 0)).toBeGreaterThanOrEqual(140);
        expect(calls.filter((call) => call.id === flaky)).toHaveLength(2);
        expect(bridge.failedAttempts).toBe(4);

        const [dead] = await subscriber.pull({ subscription: deadLetterSub.name, maxMessages: 10 });
        expect(dead.receivedMessages).toHaveLength(1);
        const deadMessage = dead.receivedMessages?.[0]?.message;
        expect(Buffer.from(deadMessage?.data ?? '').toString()).toBe('never works');
        expect(deadMessage?.attributes).toMatchObject({
          kind: 'poison',
          CloudPubSubDeadLetterSourceDeliveryCount: '3',
          CloudPubSubDeadLetterSourceSubscription: `eventarc-local-${topicId}`,
          CloudPubSubDeadLetterSourceSubscriptionProject: PROJECT_ID,
        });

        const warnings = sink.entries().filter((e) => e.severity === 'WARNING');
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatchObject({ messageId: poison, attempts: 3 });
        // Message data never reaches a log line.
        expect(sink.lines.join('\n')).not.toContain('never works');
        expect(consoleError).toHaveBeenCalledTimes(4);
      } finally {
        await bridge.stop();
        await fn.close();
        consoleError.mockRestore();
      }
    });
  });
}
