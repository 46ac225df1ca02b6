import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';

/**
 * The Pub/Sub API exactly as the official client ships it: pubsub.proto from @google-cloud/pubsub,
 * its imports (google/api, protobuf) from google-gax. Resolved from the package entry points
 * because neither package exports its package.json.
 */
const packageRoot = (name: string) => path.resolve(path.dirname(require.resolve(name)), '..', '..');

/**
 * gax decodes int64 as strings and enums as names; the server uses the same options so request
 * objects look like what the client sends. `defaults: false` keeps field presence (an absent
 * push_config or dead_letter_policy stays undefined).
 */
const definition = protoLoader.loadSync('google/pubsub/v1/pubsub.proto', {
  includeDirs: [
    path.join(packageRoot('@google-cloud/pubsub'), 'build', 'protos'),
    path.join(packageRoot('google-gax'), 'build', 'protos'),
  ],
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
});

const service = (name: string) => definition[name] as protoLoader.ServiceDefinition;

export const publisherService = service('google.pubsub.v1.Publisher');
export const subscriberService = service('google.pubsub.v1.Subscriber');
