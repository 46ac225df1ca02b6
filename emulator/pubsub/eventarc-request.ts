import { z } from 'zod';
import { formatDate } from './rfc3339';

/**
 * A Pub/Sub message as the bridge receives it: structurally the @google-cloud/pubsub client's
 * `Message` (id, data, attributes, publishTime as PreciseDate), so tests can pass either a received
 * message or a literal.
 */
export interface SourceMessage {
  id: string;
  data: Buffer;
  attributes: Record<string, string>;
  publishTime: Date;
  orderingKey?: string;
}

export interface EventarcTarget {
  projectId: string;
  /** Topic id (`secret-events`) or full name (`projects/P/topics/T`). */
  topic: string;
  /** Subscription id or full name. */
  subscription: string;
}

/** The `data` of a google.cloud.pubsub.topic.v1.messagePublished event (MessagePublishedData). */
export interface MessagePublishedData {
  message: {
    data: string;
    attributes?: Record<string, string>;
    messageId: string;
    message_id: string;
    publishTime: string;
    publish_time: string;
    orderingKey?: string;
  };
  subscription: string;
}

export interface EventarcRequest {
  headers: Record<string, string>;
  body: MessagePublishedData;
}

export const MESSAGE_PUBLISHED_TYPE = 'google.cloud.pubsub.topic.v1.messagePublished';

const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const RESOURCE_ID = /^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;

const fullName = (collection: 'topics' | 'subscriptions') =>
  z
    .object({ projectId: z.string().regex(PROJECT_ID), id: z.string().min(1) })
    .transform(({ projectId, id }) =>
      id.startsWith('projects/') ? id : `projects/${projectId}/${collection}/${id}`,
    )
    .refine((name) => {
      const parts = name.split('/');
      return (
        parts.length === 4 &&
        parts[0] === 'projects' &&
        parts[2] === collection &&
        RESOURCE_ID.test(parts[3] ?? '')
      );
    }, `a ${collection} id or projects/P/${collection}/ID`);

export const topicName = (projectId: string, topic: string) =>
  fullName('topics').parse({ projectId, id: topic });
export const subscriptionName = (projectId: string, subscription: string) =>
  fullName('subscriptions').parse({ projectId, id: subscription });

/**
 * The HTTP request Eventarc sends a Cloud Function for a Pub/Sub message: a binary-mode CloudEvent
 * (ce-* headers, JSON body = MessagePublishedData). ce-id is the message id, ce-source the topic,
 * ce-time the publish time; `attributes` is omitted when empty, and messageId/publishTime appear
 * in both spellings, as Eventarc delivers them.
 */
export function toEventarcRequest(message: SourceMessage, target: EventarcTarget): EventarcRequest {
  const topic = topicName(target.projectId, target.topic);
  const subscription = subscriptionName(target.projectId, target.subscription);
  const publishTime = formatDate(message.publishTime);
  const hasAttributes = Object.keys(message.attributes).length > 0;
  return {
    headers: {
      'ce-specversion': '1.0',
      'ce-id': message.id,
      'ce-source': `//pubsub.googleapis.com/${topic}`,
      'ce-type': MESSAGE_PUBLISHED_TYPE,
      'ce-time': publishTime,
      'content-type': 'application/json',
    },
    body: {
      message: {
        data: message.data.toString('base64'),
        ...(hasAttributes ? { attributes: { ...message.attributes } } : {}),
        messageId: message.id,
        message_id: message.id,
        publishTime,
        publish_time: publishTime,
        ...(message.orderingKey ? { orderingKey: message.orderingKey } : {}),
      },
      subscription,
    },
  };
}
