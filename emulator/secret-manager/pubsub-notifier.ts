import type { PubSub, Topic } from '@google-cloud/pubsub';
import type { Notifier } from './notifications';

/**
 * Notifications through the official Pub/Sub client: the Pub/Sub emulator when the PubSub
 * instance was built with PUBSUB_EMULATOR_HOST set, or real Pub/Sub. Messages go out one by one
 * (no batching delay), so a subscriber sees them as soon as the RPC returns.
 */
export function createPubSubNotifier(pubsub: PubSub): Notifier {
  const topics = new Map<string, Topic>();
  const topicFor = (name: string) => {
    let topic = topics.get(name);
    if (!topic) {
      topic = pubsub.topic(name, { batching: { maxMessages: 1, maxMilliseconds: 0 } });
      topics.set(name, topic);
    }
    return topic;
  };
  return {
    async publish(message) {
      await topicFor(message.topic).publishMessage({
        data: message.data,
        attributes: message.attributes,
      });
    },
    async close() {
      await Promise.allSettled([...topics.values()].map((t) => t.flush()));
    },
  };
}
