import { z } from 'zod';
import { PermanentError } from '../errors';
import { formatIssues } from '../zod-issues';

export const MESSAGE_PUBLISHED = 'google.cloud.pubsub.topic.v1.messagePublished';

/**
 * Eventarc's Pub/Sub CloudEvent as functions-framework hands it over (a plain object, binary or
 * structured mode). Non-strict: Eventarc adds snake_case duplicates and `subscription`, the
 * emulator path omits some fields.
 */
const PubSubMessageSchema = z
  .object({
    data: z.string().optional(),
    attributes: z.record(z.string(), z.string()).optional(),
    messageId: z.string().optional(),
    message_id: z.string().optional(),
    publishTime: z.string().optional(),
    publish_time: z.string().optional(),
  })
  .loose();

export const PubSubCloudEventSchema = z
  .object({
    id: z.string().min(1),
    type: z.string().min(1),
    source: z.string().optional(),
    time: z.string().optional(),
    data: z.object({ message: PubSubMessageSchema, subscription: z.string().optional() }).loose(),
  })
  .loose();

export interface DecodedMessage {
  eventId: string;
  messageId: string;
  /** Publish time in ms, when known. */
  publishTime?: number;
  attributes: Record<string, string>;
  /** The message body, decoded from base64 to UTF-8 ('' when absent). */
  body: string;
}

/**
 * The event itself is malformed (envelope, type, attributes, body): a permanent failure that the
 * boundary logs at WARNING and acknowledges. The message names what is wrong, never the body.
 */
export class InvalidEventError extends PermanentError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Validate the envelope and decode the message. Throws InvalidEventError with a short reason. */
export function decodePubSubEvent(event: unknown): DecodedMessage {
  const parsed = PubSubCloudEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new InvalidEventError(`not a Pub/Sub CloudEvent: ${formatIssues(parsed.error, 1)}`);
  }
  const e = parsed.data;
  if (e.type !== MESSAGE_PUBLISHED) throw new InvalidEventError(`unexpected event type ${e.type}`);
  const m = e.data.message;
  const data = (m.data ?? '').replace(/\s/g, '');
  if (!BASE64.test(data) || data.length % 4 === 1) {
    throw new InvalidEventError('message data is not valid base64');
  }
  const publishTimeText = m.publishTime ?? m.publish_time ?? e.time;
  const publishTime = publishTimeText ? Date.parse(publishTimeText) : Number.NaN;
  return {
    eventId: e.id,
    messageId: m.messageId ?? m.message_id ?? e.id,
    ...(Number.isFinite(publishTime) ? { publishTime } : {}),
    attributes: m.attributes ?? {},
    body: Buffer.from(data, 'base64').toString('utf8'),
  };
}
