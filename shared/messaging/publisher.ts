import type { PubSub } from '@google-cloud/pubsub';
import { TransientError } from '../errors';
import type { Publish } from '../rotation/context';

/**
 * Publishing through the official client. The client is created on first use: it is heavy, and a
 * function that only acknowledges an event should not pay for it at cold start. It honours
 * PUBSUB_EMULATOR_HOST by itself.
 */
export function createPubSubPublish(
  options: { projectId?: string; pubsub?: PubSub } = {},
): Publish {
  let client = options.pubsub;
  const topics = new Map<string, ReturnType<PubSub['topic']>>();
  return async (topic, data, attributes) => {
    if (!client) {
      const { PubSub: PubSubClass } =
        require('@google-cloud/pubsub') as typeof import('@google-cloud/pubsub');
      // Against an emulator, say so: otherwise the client still probes the metadata server.
      const emulated = Boolean(process.env.PUBSUB_EMULATOR_HOST);
      client = new PubSubClass({
        ...(options.projectId ? { projectId: options.projectId } : {}),
        ...(emulated ? { emulatorMode: true, universeDomain: 'googleapis.com' } : {}),
      });
    }
    let t = topics.get(topic);
    if (!t) {
      t = client.topic(topic);
      topics.set(topic, t);
    }
    try {
      await t.publishMessage({ data: Buffer.from(data, 'utf8'), attributes });
    } catch (err) {
      throw new TransientError(`publish to ${topic} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  };
}
