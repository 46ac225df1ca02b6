import { PubSub, v1 } from '@google-cloud/pubsub';
import { credentials } from '@grpc/grpc-js';

export const PROJECT_ID = 'gsm-test-project';

/**
 * The official client pointed at a local Pub/Sub. Insecure credentials plus a universe domain: gax
 * then needs no Application Default Credentials and probes no metadata server.
 */
export function pubsubClient(host: string): PubSub {
  return new PubSub({
    projectId: PROJECT_ID,
    apiEndpoint: host,
    emulatorMode: true,
    universeDomain: 'googleapis.com',
  });
}

/** The generated Subscriber client, for the unary Pull / Acknowledge / ModifyAckDeadline calls. */
export function subscriberClient(host: string): v1.SubscriberClient {
  const [servicePath, port] = host.split(':');
  return new v1.SubscriberClient({
    servicePath,
    port: Number(port),
    sslCreds: credentials.createInsecure(),
    universeDomain: 'googleapis.com',
  });
}

let counter = 0;
/** Names unique within the run: scenarios never see each other's messages. */
export const uniqueName = (prefix: string) => `${prefix}-${process.pid}-${++counter}`;
