/**
 * What the stand-in stores, in the proto shapes the gRPC layer sends back (camelCase, as
 * proto-loader maps them; int64 as strings).
 */
export interface ProtoTimestamp {
  seconds: string;
  nanos: number;
}

/** A published message, as every subscription attached at publish time receives it. */
export interface StoredMessage {
  messageId: string;
  data: Buffer;
  attributes: Record<string, string>;
  publishTime: ProtoTimestamp;
  orderingKey: string;
}

export interface StoredTopic {
  name: string;
  labels: Record<string, string>;
}

/** Delivery settings, resolved once from the Subscription at creation. */
export interface DeliverySettings {
  ackDeadlineSeconds: number;
  pushEndpoint?: string;
  deadLetter?: { topic: string; maxDeliveryAttempts: number };
  retry?: { minBackoffMs: number; maxBackoffMs: number };
}

/** The Subscription resource as GetSubscription returns it, defaults filled in. */
export type StoredSubscription = Record<string, unknown> & { name: string; topic: string };

export interface ReceivedMessage {
  ackId: string;
  message: StoredMessage;
  /** Set only when the subscription has a dead-letter policy, as in Pub/Sub. */
  deliveryAttempt: number;
}
