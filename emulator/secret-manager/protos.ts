import * as protoLoader from '@grpc/proto-loader';
import * as protobuf from 'protobufjs';

/**
 * The Secret Manager API exactly as the official client ships it: the bundled protos.json of
 * @google-cloud/secret-manager (it already contains google/api, iam, rpc and protobuf types), read
 * once. The same descriptors serve the gRPC server (through proto-loader) and the proto3-JSON
 * encoding of notification data (through protobufjs reflection), so the wire shape and the
 * Pub/Sub shape can never drift apart.
 */
// require, not import: a typed import of this 1 MB JSON would make every type-check slow.
const descriptorJson =
  require('@google-cloud/secret-manager/build/protos/protos.json') as protobuf.INamespace;

export const SERVICE_NAME = 'google.cloud.secretmanager.v1.SecretManagerService';

/**
 * gax decodes int64 as strings and enums as names; the server uses the same options so request
 * objects look like what the client sends. `defaults: false` keeps field presence: an absent
 * update_mask stays undefined, unlike an empty one.
 */
export const packageDefinition = protoLoader.fromJSON(descriptorJson, {
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
});

export const serviceDefinition = packageDefinition[SERVICE_NAME] as protoLoader.ServiceDefinition;

export const protoRoot = protobuf.Root.fromJSON(descriptorJson);

export const SECRET_TYPE = 'google.cloud.secretmanager.v1.Secret';
export const SECRET_VERSION_TYPE = 'google.cloud.secretmanager.v1.SecretVersion';
