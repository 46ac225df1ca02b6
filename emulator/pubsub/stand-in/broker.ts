import { z } from 'zod';
import type { Clock } from '../../../shared/clock';
import { alreadyExists, invalidArgument, notFound } from './errors';
import type { StoredMessage, StoredSubscription, StoredTopic } from './model';
import { DELETED_TOPIC, parseProjectName, parseSubscriptionName, parseTopicName } from './names';
import { resolveSubscription } from './subscription-config';
import { type Consumer, SubscriptionQueue } from './subscription-queue';

const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

const publishedMessage = z.looseObject({
  data: z.instanceof(Buffer).nullish(),
  attributes: z.record(z.string(), z.string()).nullish(),
  orderingKey: z.string().nullish(),
});

interface SubscriptionRecord {
  resource: StoredSubscription;
  queue: SubscriptionQueue;
  push?: Consumer;
}

/** Makes the consumer that POSTs a push subscription's messages to its endpoint. */
export type PushConsumerFactory = (queue: SubscriptionQueue, endpoint: string) => Consumer;

/**
 * Topics, subscriptions and the fan-out between them. A publish copies the message into every
 * subscription attached to the topic at that moment (a subscription created later does not see
 * older messages, as in Pub/Sub). Messages are kept in memory only.
 */
export class Broker {
  private readonly topics = new Map<string, StoredTopic>();
  private readonly subscriptions = new Map<string, SubscriptionRecord>();
  private messageSeq = 0;

  constructor(
    private readonly clock: Clock,
    private readonly makePushConsumer: PushConsumerFactory,
  ) {}

  createTopic(raw: { name?: unknown; labels?: Record<string, string> | null }): StoredTopic {
    const { name } = parseTopicName(raw.name);
    if (this.topics.has(name)) throw alreadyExists('Topic already exists');
    const topic: StoredTopic = { name, labels: raw.labels ?? {} };
    this.topics.set(name, topic);
    return topic;
  }

  getTopic(name: unknown): StoredTopic {
    const topic = this.topics.get(parseTopicName(name).name);
    if (!topic) throw notFound('Topic not found');
    return topic;
  }

  listTopics(project: unknown): StoredTopic[] {
    const id = parseProjectName(project);
    return [...this.topics.values()].filter((t) => t.name.startsWith(`projects/${id}/`));
  }

  listTopicSubscriptions(topic: unknown): string[] {
    const { name } = this.getTopic(topic);
    return [...this.subscriptions.values()]
      .filter((s) => s.resource.topic === name)
      .map((s) => s.resource.name);
  }

  /** Subscriptions survive their topic, pointing at `_deleted-topic_`, as in Pub/Sub. */
  deleteTopic(name: unknown): void {
    const { name: topic } = this.getTopic(name);
    this.topics.delete(topic);
    for (const record of this.subscriptions.values()) {
      if (record.resource.topic === topic) record.resource.topic = DELETED_TOPIC;
    }
  }

  publish(topicName: unknown, messages: unknown[]): string[] {
    const { name } = this.getTopic(topicName);
    if (messages.length === 0) throw invalidArgument('No messages in the request');
    const parsed = messages.map((m) => publishedMessage.safeParse(m));
    let bytes = 0;
    for (const result of parsed) {
      if (!result.success) throw invalidArgument('Request contains an invalid argument.');
      const { data, attributes } = result.data;
      if ((!data || data.length === 0) && Object.keys(attributes ?? {}).length === 0) {
        throw invalidArgument('Some messages are empty');
      }
      for (const key of Object.keys(attributes ?? {})) {
        if (key.length === 0 || key.startsWith('goog')) {
          throw invalidArgument(`Invalid attribute key: ${key}`);
        }
      }
      bytes += data?.length ?? 0;
    }
    if (bytes > MAX_REQUEST_BYTES) throw invalidArgument('Request payload size exceeds the limit');

    return parsed.map((result) => {
      const { data, attributes, orderingKey } = result.data ?? {};
      return this.deliverToTopic(name, {
        data: data ?? Buffer.alloc(0),
        attributes: attributes ?? {},
        orderingKey: orderingKey ?? '',
      });
    });
  }

  createSubscription(raw: unknown): StoredSubscription {
    const { resource, delivery } = resolveSubscription(raw, (t) => this.topics.has(t));
    if (this.subscriptions.has(resource.name)) {
      throw alreadyExists('Subscription already exists');
    }
    const queue = new SubscriptionQueue(
      resource.name,
      delivery,
      () => this.clock.now(),
      (message, attempts) =>
        delivery.deadLetter &&
        this.forwardToDeadLetter(resource.name, delivery.deadLetter.topic, message, attempts),
    );
    const record: SubscriptionRecord = { resource, queue };
    if (delivery.pushEndpoint) {
      record.push = this.makePushConsumer(queue, delivery.pushEndpoint);
      queue.addConsumer(record.push);
    }
    this.subscriptions.set(resource.name, record);
    return resource;
  }

  getSubscription(name: unknown): StoredSubscription {
    return this.record(name).resource;
  }

  listSubscriptions(project: unknown): StoredSubscription[] {
    const id = parseProjectName(project);
    return [...this.subscriptions.values()]
      .map((s) => s.resource)
      .filter((s) => s.name.startsWith(`projects/${id}/`));
  }

  deleteSubscription(name: unknown): void {
    const record = this.record(name);
    this.subscriptions.delete(record.resource.name);
    record.queue.close();
  }

  queue(name: unknown): SubscriptionQueue {
    return this.record(name).queue;
  }

  /** Lease expiry and retry backoff are time-driven: the server calls this on a short timer. */
  tick(): void {
    for (const record of this.subscriptions.values()) record.queue.tick();
  }

  close(): void {
    for (const record of this.subscriptions.values()) record.queue.close();
    this.subscriptions.clear();
    this.topics.clear();
  }

  private record(name: unknown): SubscriptionRecord {
    const record = this.subscriptions.get(parseSubscriptionName(name).name);
    if (!record) throw notFound('Subscription does not exist');
    return record;
  }

  private deliverToTopic(
    topic: string,
    content: Pick<StoredMessage, 'data' | 'attributes' | 'orderingKey'>,
  ): string {
    this.messageSeq += 1;
    const ms = this.clock.now();
    const seconds = Math.floor(ms / 1000);
    const message: StoredMessage = {
      ...content,
      messageId: String(this.messageSeq),
      publishTime: { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1_000_000 },
    };
    for (const record of this.subscriptions.values()) {
      if (record.resource.topic === topic) record.queue.enqueue(message);
    }
    return message.messageId;
  }

  /**
   * Pub/Sub republishes a dead-lettered message to the dead-letter topic with its data and
   * attributes plus these CloudPubSubDeadLetter* attributes (a new message id and publish time).
   * If the dead-letter topic is gone, the message is dropped.
   */
  private forwardToDeadLetter(
    subscription: string,
    deadLetterTopic: string,
    message: StoredMessage,
    attempts: number,
  ): void {
    if (!this.topics.has(deadLetterTopic)) return;
    const { project, id } = parseSubscriptionName(subscription);
    this.deliverToTopic(deadLetterTopic, {
      data: message.data,
      orderingKey: message.orderingKey,
      attributes: {
        ...message.attributes,
        CloudPubSubDeadLetterSourceDeliveryCount: String(attempts),
        CloudPubSubDeadLetterSourceSubscription: id,
        CloudPubSubDeadLetterSourceSubscriptionProject: project,
        CloudPubSubDeadLetterSourceTopicPublishTime: new Date(
          Number(message.publishTime.seconds) * 1000 + message.publishTime.nanos / 1e6,
        ).toISOString(),
      },
    });
  }
}
