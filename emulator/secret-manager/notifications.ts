import type { Logger } from '../../shared/logging/logger';
import type { SecretEvent } from './events';
import { formatEventTimestamp } from './time';

/**
 * Event notifications as Secret Manager publishes them: one Pub/Sub message per topic of the
 * secret, attributes `eventType`, `dataFormat=JSON_API_V1`, `secretId`, `timestamp` (Pacific time
 * with its offset, as production), `versionId` on version events and `deleteType` on deletes;
 * `data` is the resource as proto3 JSON. TOPIC_CONFIGURED is the test message sent when topics
 * are set: `eventType` alone, no data.
 */
export interface NotificationMessage {
  /** Full topic name, `projects/P/topics/T`. */
  topic: string;
  attributes: Record<string, string>;
  data: Buffer;
}

/** Where notifications go. A rejection with `code: 5` means the topic does not exist. */
export interface Notifier {
  publish(message: NotificationMessage): Promise<void>;
  close?(): Promise<void>;
}

export function messagesFor(event: SecretEvent): NotificationMessage[] {
  const attributes: Record<string, string> =
    event.eventType === 'TOPIC_CONFIGURED'
      ? { eventType: event.eventType }
      : {
          eventType: event.eventType,
          dataFormat: 'JSON_API_V1',
          secretId: event.secretName,
          timestamp: formatEventTimestamp(event.at),
          ...(event.versionName ? { versionId: event.versionName } : {}),
          ...(event.deleteType ? { deleteType: event.deleteType } : {}),
        };
  return event.topics.map((topic) => ({
    topic,
    attributes: { ...attributes },
    data: event.data ?? Buffer.alloc(0),
  }));
}

export interface ReceivedNotification extends NotificationMessage {
  eventType: string;
  /** `data` parsed, or undefined when there is none. */
  json: unknown;
}

/** The in-process notifier tests read. */
export interface NotificationSink extends Notifier {
  /** Everything published, oldest first. */
  readonly messages: readonly ReceivedNotification[];
  /**
   * The next `count` messages not yet taken by an earlier `next`, waiting up to `timeoutMs`
   * (default 5 s) for them to arrive.
   */
  next(count?: number, timeoutMs?: number): Promise<ReceivedNotification[]>;
  /** Forgets every message (and resets `next`). */
  clear(): void;
  /** Makes publishing to this topic fail as Pub/Sub does for a topic that does not exist. */
  markTopicMissing(topic: string): void;
}

export function createNotificationSink(): NotificationSink {
  const messages: ReceivedNotification[] = [];
  const missing = new Set<string>();
  let cursor = 0;
  let waiters: (() => void)[] = [];

  const wake = () => {
    const current = waiters;
    waiters = [];
    for (const w of current) w();
  };

  return {
    messages,
    async publish(message) {
      if (missing.has(message.topic)) {
        throw Object.assign(
          new Error(`5 NOT_FOUND: Resource not found (resource=${message.topic}).`),
          {
            code: 5,
          },
        );
      }
      const text = message.data.toString('utf8');
      messages.push({
        ...message,
        eventType: message.attributes.eventType ?? '',
        json: text ? JSON.parse(text) : undefined,
      });
      wake();
    },
    async next(count = 1, timeoutMs = 5000) {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        wake();
      }, timeoutMs);
      try {
        while (messages.length < cursor + count) {
          if (timedOut) {
            const got = messages.slice(cursor).map((m) => m.eventType);
            throw new Error(
              `expected ${count} more notification(s) within ${timeoutMs} ms, got ${got.length}: ${got.join(', ')}`,
            );
          }
          await new Promise<void>((resolve) => waiters.push(resolve));
        }
      } finally {
        clearTimeout(timer);
      }
      const out = messages.slice(cursor, cursor + count);
      cursor += count;
      return out;
    },
    clear() {
      messages.length = 0;
      cursor = 0;
    },
    markTopicMissing(topic) {
      missing.add(topic);
    },
  };
}

/** Events to every notifier; failures are logged and retried a little, never surfaced to the RPC. */
export class Dispatcher {
  constructor(
    private readonly sink: NotificationSink,
    private readonly forward: Notifier | undefined,
    private readonly logger: Logger,
    private readonly retryDelaysMs: readonly number[] = [200, 1000],
  ) {}

  /**
   * Records every message in the sink before returning (so a test that awaited the RPC sees
   * them), then forwards in the background.
   */
  dispatch(events: SecretEvent[]): void {
    for (const message of events.flatMap(messagesFor)) {
      this.sink.publish(message).catch((err: unknown) => this.logFailure(message, err));
      if (this.forward) void this.deliver(this.forward, message);
    }
  }

  /**
   * TOPIC_CONFIGURED is published before the secret is judged, and a missing topic fails the
   * call, as in production. Both notifiers must accept it.
   */
  async configureTopics(topics: string[]): Promise<{ missing?: string }> {
    for (const message of messagesFor({
      eventType: 'TOPIC_CONFIGURED',
      secretName: '',
      topics,
      at: 0,
    })) {
      for (const notifier of this.forward ? [this.sink, this.forward] : [this.sink]) {
        try {
          await notifier.publish(message);
        } catch (err) {
          if ((err as { code?: unknown }).code === 5) return { missing: message.topic };
          this.logFailure(message, err);
        }
      }
    }
    return {};
  }

  private async deliver(notifier: Notifier, message: NotificationMessage): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await notifier.publish(message);
        return;
      } catch (err) {
        const delay = this.retryDelaysMs[attempt];
        if (delay === undefined) {
          this.logFailure(message, err);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
      }
    }
  }

  private logFailure(message: NotificationMessage, err: unknown): void {
    this.logger.warning('secret manager emulator: notification not published', {
      topic: message.topic,
      eventType: message.attributes.eventType,
      secretId: message.attributes.secretId,
      error: err,
    });
  }
}
