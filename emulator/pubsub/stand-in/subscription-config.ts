import { z } from 'zod';
import { durationToMs, msToDuration } from './duration';
import { invalidArgument, notFound, outOfRange, unsupported } from './errors';
import type { DeliverySettings, StoredSubscription } from './model';
import { parseSubscriptionName, parseTopicName } from './names';

const DEFAULT_ACK_DEADLINE_SECONDS = 10;
const DEFAULT_MAX_DELIVERY_ATTEMPTS = 5;
// Pub/Sub's documented defaults when a retry policy is present without one of its bounds.
const DEFAULT_MIN_BACKOFF_MS = 10_000;
const DEFAULT_MAX_BACKOFF_MS = 600_000;
const SEVEN_DAYS = msToDuration(7 * 24 * 3600 * 1000);
const THIRTY_ONE_DAYS = msToDuration(31 * 24 * 3600 * 1000);

const request = z.looseObject({
  name: z.unknown().optional(),
  topic: z.unknown().optional(),
  pushConfig: z
    .looseObject({
      pushEndpoint: z.string().nullish(),
      attributes: z.record(z.string(), z.string()).nullish(),
      oidcToken: z.unknown().optional(),
      noWrapper: z.unknown().optional(),
    })
    .nullish(),
  ackDeadlineSeconds: z.number().int().nullish(),
  labels: z.record(z.string(), z.string()).nullish(),
  deadLetterPolicy: z
    .looseObject({
      deadLetterTopic: z.string().nullish(),
      maxDeliveryAttempts: z.number().int().nullish(),
    })
    .nullish(),
  retryPolicy: z
    .looseObject({ minimumBackoff: z.unknown().optional(), maximumBackoff: z.unknown().optional() })
    .nullish(),
  filter: z.string().nullish(),
  enableMessageOrdering: z.boolean().nullish(),
  enableExactlyOnceDelivery: z.boolean().nullish(),
  bigqueryConfig: z.unknown().optional(),
  cloudStorageConfig: z.unknown().optional(),
  bigtableConfig: z.unknown().optional(),
  messageTransforms: z.array(z.unknown()).nullish(),
});

export interface ResolvedSubscription {
  resource: StoredSubscription;
  delivery: DeliverySettings;
}

/**
 * CreateSubscription's checks and defaults. Features the stand-in does not model (filters,
 * ordering, exactly-once, BigQuery/Cloud Storage/Bigtable export, unwrapped push, transforms) are
 * refused with UNIMPLEMENTED instead of being silently ignored.
 */
export function resolveSubscription(
  raw: unknown,
  topicExists: (name: string) => boolean,
): ResolvedSubscription {
  const parsed = request.safeParse(raw);
  if (!parsed.success) throw invalidArgument('Request contains an invalid argument.');
  const req = parsed.data;
  const name = parseSubscriptionName(req.name).name;
  const topic = parseTopicName(req.topic).name;
  if (!topicExists(topic)) throw notFound('Topic not found');

  if (req.filter) throw unsupported('filter');
  if (req.enableMessageOrdering) throw unsupported('enable_message_ordering');
  if (req.enableExactlyOnceDelivery) throw unsupported('enable_exactly_once_delivery');
  if (req.bigqueryConfig) throw unsupported('bigquery_config');
  if (req.cloudStorageConfig) throw unsupported('cloud_storage_config');
  if (req.bigtableConfig) throw unsupported('bigtable_config');
  if (req.messageTransforms?.length) throw unsupported('message_transforms');
  if (req.pushConfig?.noWrapper) throw unsupported('push_config.no_wrapper');

  const ackDeadlineSeconds = req.ackDeadlineSeconds || DEFAULT_ACK_DEADLINE_SECONDS;
  if (ackDeadlineSeconds < 10 || ackDeadlineSeconds > 600) {
    throw invalidArgument(
      `Invalid ack_deadline_seconds: ${ackDeadlineSeconds}; it must be between 10 and 600 seconds.`,
    );
  }

  const pushEndpoint = req.pushConfig?.pushEndpoint || undefined;
  if (pushEndpoint && !/^https?:\/\/[^/]/.test(pushEndpoint)) {
    throw invalidArgument(`Invalid push_endpoint: ${pushEndpoint}`);
  }

  const delivery: DeliverySettings = { ackDeadlineSeconds, pushEndpoint };
  const resource: StoredSubscription = {
    name,
    topic,
    pushConfig: {
      pushEndpoint: pushEndpoint ?? '',
      attributes: req.pushConfig?.attributes ?? {},
      ...(req.pushConfig?.oidcToken ? { oidcToken: req.pushConfig.oidcToken } : {}),
    },
    ackDeadlineSeconds,
    retainAckedMessages: false,
    messageRetentionDuration: SEVEN_DAYS,
    labels: req.labels ?? {},
    enableMessageOrdering: false,
    expirationPolicy: { ttl: THIRTY_ONE_DAYS },
    filter: '',
    detached: false,
    enableExactlyOnceDelivery: false,
    state: 'ACTIVE',
  };

  if (req.deadLetterPolicy?.deadLetterTopic) {
    const deadLetterTopic = parseTopicName(req.deadLetterPolicy.deadLetterTopic).name;
    if (!topicExists(deadLetterTopic)) throw notFound('Dead letter topic not found');
    const max = req.deadLetterPolicy.maxDeliveryAttempts || DEFAULT_MAX_DELIVERY_ATTEMPTS;
    // OUT_OF_RANGE with these words, as the official emulator answers.
    if (max < 5) {
      throw outOfRange(
        `The value for max_delivery_attempts is too small. You passed ${max} in the request, but the minimum value is 5.`,
      );
    }
    if (max > 100) {
      throw outOfRange(
        `The value for max_delivery_attempts is too large. You passed ${max} in the request, but the maximum value is 100.`,
      );
    }
    delivery.deadLetter = { topic: deadLetterTopic, maxDeliveryAttempts: max };
    resource.deadLetterPolicy = { deadLetterTopic, maxDeliveryAttempts: max };
  }

  if (req.retryPolicy) {
    const min = req.retryPolicy.minimumBackoff
      ? durationToMs(req.retryPolicy.minimumBackoff, 'minimum_backoff')
      : DEFAULT_MIN_BACKOFF_MS;
    const max = req.retryPolicy.maximumBackoff
      ? durationToMs(req.retryPolicy.maximumBackoff, 'maximum_backoff')
      : DEFAULT_MAX_BACKOFF_MS;
    if (min < 0 || max > 600_000 || min > max) {
      throw invalidArgument(
        'Invalid retry_policy: backoffs must be between 0 and 600 seconds, minimum <= maximum.',
      );
    }
    delivery.retry = { minBackoffMs: min, maxBackoffMs: max };
    resource.retryPolicy = { minimumBackoff: msToDuration(min), maximumBackoff: msToDuration(max) };
  }

  return { resource, delivery };
}
