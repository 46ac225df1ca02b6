import { type Message, PubSub } from '@google-cloud/pubsub';
import { z } from 'zod';
import { createLogger, type Logger } from '../../shared/logging/logger';
import { exponentialBackoffMs } from './backoff';
import { subscriptionName, toEventarcRequest, topicName } from './eventarc-request';
import { postJson } from './http-post';
import { formatDate } from './rfc3339';

export {
  type EventarcRequest,
  type EventarcTarget,
  MESSAGE_PUBLISHED_TYPE,
  type MessagePublishedData,
  type SourceMessage,
  toEventarcRequest,
} from './eventarc-request';

export interface EventarcBridgeOptions {
  /** `127.0.0.1:port` of the official emulator or the stand-in. */
  pubsubHost: string;
  projectId: string;
  /** Topic id or full name; created if missing. */
  topic: string;
  /** The function's URL, e.g. `http://127.0.0.1:8080/`. */
  targetUrl: string;
  /** Subscription id or full name; created (pull) if missing. Default `eventarc-local-<topic>`. */
  subscription?: string;
  /** Deliveries before giving up on a message (default 5, Pub/Sub's dead-letter default). */
  maxDeliveryAttempts?: number;
  /** Backoff after the first failure, doubling up to maxBackoffMs (defaults 1 s and 10 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Topic id or full name for messages that used up their attempts; created if missing. */
  deadLetterTopic?: string;
  logger?: Logger;
  /** Per-request timeout, Eventarc's is the function timeout (default 60 s). */
  requestTimeoutMs?: number;
  /** Messages in delivery at once (default 10). */
  maxConcurrency?: number;
}

export interface EventarcBridge {
  /** Full name of the subscription the bridge pulls from. */
  readonly subscription: string;
  /** Messages the function acknowledged (2xx). */
  readonly delivered: number;
  /** Deliveries that failed (non-2xx, network error, timeout). */
  readonly failedAttempts: number;
  /** Messages forwarded to the dead-letter topic. */
  readonly deadLettered: number;
  /** Messages given up without a dead-letter topic. */
  readonly dropped: number;
  stop(): Promise<void>;
}

const optionsSchema = z.object({
  pubsubHost: z.string().regex(/^[A-Za-z0-9.\-[\]:]+:\d+$/, 'host:port'),
  projectId: z.string(),
  topic: z.string(),
  targetUrl: z.url({ protocol: /^https?$/ }),
  subscription: z.string().optional(),
  maxDeliveryAttempts: z.number().int().min(1).max(100).default(5),
  minBackoffMs: z.number().int().min(0).default(1_000),
  maxBackoffMs: z.number().int().min(0).default(10_000),
  deadLetterTopic: z.string().optional(),
  requestTimeoutMs: z.number().int().positive().default(60_000),
  maxConcurrency: z.number().int().positive().default(10),
});

const ALREADY_EXISTS = 6;

/**
 * Delivers a topic to a CloudEvent function the way an Eventarc Pub/Sub trigger does: each
 * message becomes a binary-mode messagePublished CloudEvent POSTed to the function; 2xx acks it;
 * anything else is retried with exponential backoff, and after maxDeliveryAttempts the message is
 * dead-lettered (or dropped) with a WARNING.
 *
 * The bridge retries itself, holding the message's lease (the client extends it), instead of
 * relying on the subscription's retry and dead-letter policies: the official emulator accepts
 * those policies but neither honours the backoff nor forwards to the dead-letter topic, so this is
 * the only way to behave identically on the emulator and on the stand-in. If the bridge stops
 * mid-retry, the message is nacked and Pub/Sub redelivers it.
 */
export async function startEventarcBridge(options: EventarcBridgeOptions): Promise<EventarcBridge> {
  const opts = optionsSchema.parse(options);
  if (opts.minBackoffMs > opts.maxBackoffMs) throw new Error('minBackoffMs exceeds maxBackoffMs');
  const topic = topicName(opts.projectId, opts.topic);
  const subscription = subscriptionName(
    opts.projectId,
    opts.subscription ?? `eventarc-local-${topic.split('/')[3]}`,
  );
  const deadLetterTopic = opts.deadLetterTopic
    ? topicName(opts.projectId, opts.deadLetterTopic)
    : undefined;
  const target = new URL(opts.targetUrl);
  const logger = (options.logger ?? createLogger()).child(
    { component: 'eventarc-bridge' },
    { topic, subscription, target: `${target.origin}${target.pathname}` },
  );

  const pubsub = new PubSub({
    projectId: opts.projectId,
    apiEndpoint: opts.pubsubHost,
    emulatorMode: true,
    // With insecure credentials and a universe domain, gax asks no credentials and probes no
    // metadata server.
    universeDomain: 'googleapis.com',
  });
  await createIfMissing(() => pubsub.createTopic(topic));
  if (deadLetterTopic) await createIfMissing(() => pubsub.createTopic(deadLetterTopic));
  await createIfMissing(() => pubsub.topic(topic).createSubscription(subscription));
  const [metadata] = await pubsub.subscription(subscription).getMetadata();
  if (metadata.topic !== topic) {
    await pubsub.close();
    throw new Error(`subscription ${subscription} exists but is attached to ${metadata.topic}`);
  }

  const stats = { delivered: 0, failedAttempts: 0, deadLettered: 0, dropped: 0 };
  const abort = new AbortController();
  const inFlight = new Set<Promise<void>>();

  const deliver = async (message: Message): Promise<void> => {
    const request = toEventarcRequest(message, { projectId: opts.projectId, topic, subscription });
    const body = JSON.stringify(request.body);
    const log = logger.child({}, { messageId: message.id });
    for (let attempt = 1; ; attempt++) {
      let status: number | undefined;
      let failure: unknown;
      try {
        status = await postJson(opts.targetUrl, request.headers, body, {
          timeoutMs: opts.requestTimeoutMs,
          signal: abort.signal,
        });
      } catch (err) {
        failure = err;
      }
      if (abort.signal.aborted) return message.nack();
      if (status !== undefined && status >= 200 && status < 300) {
        stats.delivered += 1;
        log.debug('delivered', { attempt, status });
        return message.ack();
      }
      stats.failedAttempts += 1;
      if (attempt >= opts.maxDeliveryAttempts) return giveUp(message, attempt, log);
      const backoffMs = exponentialBackoffMs(attempt, opts.minBackoffMs, opts.maxBackoffMs);
      log.info('delivery failed; retrying', { attempt, status, error: failure, backoffMs });
      if (!(await sleep(backoffMs, abort.signal))) return message.nack();
    }
  };

  const giveUp = async (message: Message, attempts: number, log: Logger): Promise<void> => {
    if (!deadLetterTopic) {
      stats.dropped += 1;
      log.warning('delivery failed; giving up without a dead-letter topic', { attempts });
      return message.ack();
    }
    try {
      await pubsub.topic(deadLetterTopic).publishMessage({
        data: message.data,
        attributes: {
          ...message.attributes,
          // The attributes Pub/Sub itself adds when it dead-letters a message.
          CloudPubSubDeadLetterSourceDeliveryCount: String(attempts),
          CloudPubSubDeadLetterSourceSubscription: subscription.split('/')[3] ?? subscription,
          CloudPubSubDeadLetterSourceSubscriptionProject: opts.projectId,
          CloudPubSubDeadLetterSourceTopicPublishTime: formatDate(message.publishTime),
        },
      });
    } catch (err) {
      // Not acked, so not lost: Pub/Sub redelivers it and the attempts start over.
      log.error('could not publish to the dead-letter topic; message left for redelivery', {
        deadLetterTopic,
        error: err,
      });
      return message.nack();
    }
    stats.deadLettered += 1;
    log.warning('delivery failed; message dead-lettered', { attempts, deadLetterTopic });
    message.ack();
  };

  const sub = pubsub.subscription(subscription, {
    flowControl: { maxMessages: opts.maxConcurrency, allowExcessMessages: false },
  });
  sub.on('message', (message: Message) => {
    const run = deliver(message).finally(() => inFlight.delete(run));
    inFlight.add(run);
  });
  sub.on('error', (err: unknown) => logger.error('subscriber stream failed', { error: err }));
  logger.info('eventarc bridge started', { maxDeliveryAttempts: opts.maxDeliveryAttempts });

  let stopped: Promise<void> | undefined;
  return {
    subscription,
    get delivered() {
      return stats.delivered;
    },
    get failedAttempts() {
      return stats.failedAttempts;
    },
    get deadLettered() {
      return stats.deadLettered;
    },
    get dropped() {
      return stats.dropped;
    },
    stop: () => {
      stopped ??= (async () => {
        // Cancel backoff waits and requests in flight (their messages are nacked), then close.
        abort.abort();
        await Promise.allSettled([...inFlight]);
        await sub.close();
        await pubsub.close();
      })();
      return stopped;
    },
  };
}

async function createIfMissing(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if ((err as { code?: unknown }).code !== ALREADY_EXISTS) throw err;
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (completed: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(completed);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener('abort', onAbort);
  });
}
