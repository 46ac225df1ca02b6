import { toProto3JSON } from 'proto3-json-serializer';
import type * as protobuf from 'protobufjs';
import { INVALID_REQUEST, invalidArgument } from './errors';
import { mapField } from './filter';
import type {
  CustomerManagedEncryption,
  Replication,
  SecretInput,
  StoredSecret,
  StoredVersion,
} from './model';
import { protoRoot, SECRET_TYPE, SECRET_VERSION_TYPE } from './protos';
import { fromProtoTime, type ProtoTime, toProtoTime } from './time';

/**
 * Conversions between stored resources and their proto shapes: the object the gRPC server
 * encodes (camelCase, int64 as strings, as proto-loader expects) and the proto3 JSON that
 * notifications carry. Fields at their default are left out of both, as the real service does.
 */
export type ProtoObject = Record<string, unknown>;

export function secretToProto(s: StoredSecret): ProtoObject {
  const out: ProtoObject = { name: s.name, createTime: toProtoTime(s.createTime), etag: s.etag };
  if (s.replication) out.replication = s.replication;
  if (nonEmpty(s.labels)) out.labels = { ...s.labels };
  if (s.topics.length > 0) out.topics = s.topics.map((name) => ({ name }));
  if (s.expireTime) out.expireTime = toProtoTime(s.expireTime);
  if (s.rotation) {
    const rotation: ProtoObject = {};
    if (s.rotation.nextRotationTime) {
      rotation.nextRotationTime = toProtoTime(s.rotation.nextRotationTime);
    }
    // INPUT_ONLY in the proto, yet production returns it (measured), so we do too.
    if (s.rotation.rotationPeriod) rotation.rotationPeriod = toProtoTime(s.rotation.rotationPeriod);
    out.rotation = rotation;
  }
  if (nonEmpty(s.versionAliases)) {
    out.versionAliases = Object.fromEntries(
      Object.entries(s.versionAliases).map(([k, v]) => [k, String(v)]),
    );
  }
  if (nonEmpty(s.annotations)) out.annotations = { ...s.annotations };
  if (s.versionDestroyTtl) out.versionDestroyTtl = toProtoTime(s.versionDestroyTtl);
  if (s.customerManagedEncryption) out.customerManagedEncryption = s.customerManagedEncryption;
  if (s.secretType) out.secretType = s.secretType;
  return out;
}

export function versionToProto(s: StoredSecret, v: StoredVersion): ProtoObject {
  const out: ProtoObject = {
    name: `${s.name}/versions/${v.number}`,
    createTime: toProtoTime(v.createTime),
    state: v.state,
    etag: v.etag,
  };
  if (v.destroyTime) out.destroyTime = toProtoTime(v.destroyTime);
  if (s.replication) out.replicationStatus = replicationStatusOf(s.replication);
  if (v.clientSpecifiedPayloadChecksum) out.clientSpecifiedPayloadChecksum = true;
  if (v.scheduledDestroyTime) out.scheduledDestroyTime = toProtoTime(v.scheduledDestroyTime);
  return out;
}

function replicationStatusOf(replication: Replication): ProtoObject {
  if ('automatic' in replication) return { automatic: {} };
  return {
    userManaged: {
      replicas: replication.userManaged.replicas.map((r) => ({ location: r.location })),
    },
  };
}

/** The `data` of a notification: the resource as proto3 JSON, UTF-8. */
export function secretJson(s: StoredSecret): Buffer {
  return encodeJson(SECRET_TYPE, secretToProto(s));
}

export function versionJson(s: StoredSecret, v: StoredVersion): Buffer {
  return encodeJson(SECRET_VERSION_TYPE, versionToProto(s, v));
}

function encodeJson(typeName: string, value: ProtoObject): Buffer {
  const type = protoRoot.lookupType(typeName);
  const json = toProto3JSON(type.fromObject(value)) as Record<string, unknown>;
  return Buffer.from(JSON.stringify(dropEmptyCollections(type, json)), 'utf8');
}

/**
 * protobufjs materialises every map and repeated field, so the serializer writes `"tags":{}`;
 * proto3 JSON leaves empty collections out, and so does production.
 */
function dropEmptyCollections(type: protobuf.Type, json: Record<string, unknown>) {
  for (const field of type.fieldsArray) {
    const key = field.name;
    const value = json[key];
    if (value === undefined) continue;
    const isMap = field.map;
    if ((isMap || field.repeated) && isEmptyCollection(value)) {
      delete json[key];
      continue;
    }
    const nested = field.resolve().resolvedType;
    if (nested && 'fieldsArray' in nested && value && typeof value === 'object') {
      const messages = Array.isArray(value) ? value : isMap ? Object.values(value) : [value];
      for (const m of messages) {
        if (m && typeof m === 'object') {
          dropEmptyCollections(nested as protobuf.Type, m as Record<string, unknown>);
        }
      }
    }
  }
  return json;
}

const isEmptyCollection = (v: unknown) =>
  Array.isArray(v) ? v.length === 0 : !!v && typeof v === 'object' && Object.keys(v).length === 0;

const nonEmpty = (o: Record<string, unknown>) => Object.keys(o).length > 0;

/** A Secret from a request, as proto-loader decoded it (camelCase, int64 as strings). */
export interface ProtoSecret {
  name?: string;
  replication?: {
    automatic?: { customerManagedEncryption?: CustomerManagedEncryption | null } | null;
    userManaged?: {
      replicas?: {
        location?: string;
        customerManagedEncryption?: CustomerManagedEncryption | null;
      }[];
    } | null;
    replication?: string;
  } | null;
  labels?: Record<string, string>;
  topics?: { name?: string }[];
  expireTime?: ProtoTime | null;
  ttl?: ProtoTime | null;
  expiration?: string;
  etag?: string;
  rotation?: { nextRotationTime?: ProtoTime | null; rotationPeriod?: ProtoTime | null } | null;
  versionAliases?: Record<string, string>;
  annotations?: Record<string, string>;
  versionDestroyTtl?: ProtoTime | null;
  customerManagedEncryption?: CustomerManagedEncryption | null;
  secretType?: string;
}

export function secretInputFromProto(p: ProtoSecret | null | undefined): SecretInput {
  const secret = p ?? {};
  const input: SecretInput = {
    labels: { ...(secret.labels ?? {}) },
    annotations: { ...(secret.annotations ?? {}) },
    topics: (secret.topics ?? []).map((t) => t.name ?? ''),
    versionAliases: { ...(secret.versionAliases ?? {}) },
  };
  const replication = replicationFromProto(secret.replication);
  if (replication) input.replication = replication;
  if (secret.ttl) input.expiration = { ttl: fromProtoTime(secret.ttl) };
  else if (secret.expireTime) input.expiration = { expireTime: fromProtoTime(secret.expireTime) };
  if (secret.rotation) {
    input.rotation = {
      ...(secret.rotation.nextRotationTime
        ? { nextRotationTime: fromProtoTime(secret.rotation.nextRotationTime) }
        : {}),
      ...(secret.rotation.rotationPeriod
        ? { rotationPeriod: fromProtoTime(secret.rotation.rotationPeriod) }
        : {}),
    };
  }
  if (secret.versionDestroyTtl) input.versionDestroyTtl = fromProtoTime(secret.versionDestroyTtl);
  if (secret.customerManagedEncryption?.kmsKeyName) {
    input.customerManagedEncryption = { kmsKeyName: secret.customerManagedEncryption.kmsKeyName };
  }
  if (secret.secretType && secret.secretType !== 'SECRET_TYPE_UNSPECIFIED') {
    input.secretType = secret.secretType;
  }
  if (secret.etag) input.etag = secret.etag;
  return input;
}

function replicationFromProto(r: ProtoSecret['replication']): Replication | undefined {
  if (r?.automatic) {
    const cmek = r.automatic.customerManagedEncryption;
    return { automatic: cmek?.kmsKeyName ? { customerManagedEncryption: cmek } : {} };
  }
  if (r?.userManaged) {
    return {
      userManaged: {
        replicas: (r.userManaged.replicas ?? []).map((replica) => ({
          location: replica.location ?? '',
          ...(replica.customerManagedEncryption?.kmsKeyName
            ? { customerManagedEncryption: replica.customerManagedEncryption }
            : {}),
        })),
      },
    };
  }
  return undefined;
}

/** Update mask paths, in snake_case or lowerCamelCase as production takes them. */
export const MASK_PATHS = {
  labels: 'labels',
  annotations: 'annotations',
  version_aliases: 'version_aliases',
  versionAliases: 'version_aliases',
  topics: 'topics',
  rotation: 'rotation',
  'rotation.next_rotation_time': 'rotation.next_rotation_time',
  'rotation.nextRotationTime': 'rotation.next_rotation_time',
  'rotation.rotation_period': 'rotation.rotation_period',
  'rotation.rotationPeriod': 'rotation.rotation_period',
  expire_time: 'expiration',
  expireTime: 'expiration',
  ttl: 'expiration',
  version_destroy_ttl: 'version_destroy_ttl',
  versionDestroyTtl: 'version_destroy_ttl',
  customer_managed_encryption: 'customer_managed_encryption',
  customerManagedEncryption: 'customer_managed_encryption',
  replication: 'replication',
  // Accepted and ignored, as production does.
  name: 'ignored',
  create_time: 'ignored',
  createTime: 'ignored',
  tags: 'ignored',
  etag: 'ignored',
  secret_type: 'immutable:secret_type',
  secretType: 'immutable:secret_type',
  policy_member: 'immutable:policy_member',
  policyMember: 'immutable:policy_member',
} as const;
export type MaskPath = (typeof MASK_PATHS)[keyof typeof MASK_PATHS];

export function canonicalMask(paths: string[]): MaskPath[] {
  return paths.map((p) => {
    const canonical = (MASK_PATHS as Record<string, MaskPath>)[p];
    if (!canonical) throw invalidArgument(INVALID_REQUEST);
    return canonical;
  });
}

/** Fields the list filters know, as snake_case paths of the views below. */
export const SECRET_FILTER_FIELDS = [
  'name',
  'create_time',
  'labels',
  'annotations',
  'topics',
  'replication',
  'expire_time',
  'rotation',
  'version_aliases',
  'version_destroy_ttl',
  'etag',
  'customer_managed_encryption',
  'secret_type',
] as const;

export const VERSION_FILTER_FIELDS = [
  'name',
  'state',
  'create_time',
  'destroy_time',
  'scheduled_destroy_time',
  'etag',
  'client_specified_payload_checksum',
] as const;

const date = (t: { seconds: number; nanos: number } | undefined) =>
  t ? new Date(t.seconds * 1000 + t.nanos / 1e6) : undefined;

export function secretFilterView(s: StoredSecret): Record<string, unknown> {
  const replication = s.replication
    ? 'automatic' in s.replication
      ? { automatic: s.replication.automatic }
      : { user_managed: { replicas: s.replication.userManaged.replicas } }
    : undefined;
  return {
    name: s.name,
    create_time: date(s.createTime),
    labels: mapField(s.labels),
    annotations: mapField(s.annotations),
    topics: s.topics.map((name) => ({ name })),
    replication,
    expire_time: date(s.expireTime),
    rotation: s.rotation
      ? {
          next_rotation_time: date(s.rotation.nextRotationTime),
          rotation_period: s.rotation.rotationPeriod && `${s.rotation.rotationPeriod.seconds}s`,
        }
      : undefined,
    version_aliases: mapField(
      Object.fromEntries(Object.entries(s.versionAliases).map(([k, v]) => [k, String(v)])),
    ),
    version_destroy_ttl: s.versionDestroyTtl && `${s.versionDestroyTtl.seconds}s`,
    etag: s.etag,
    customer_managed_encryption: s.customerManagedEncryption && {
      kms_key_name: s.customerManagedEncryption.kmsKeyName,
    },
    secret_type: s.secretType,
  };
}

export function versionFilterView(s: StoredSecret, v: StoredVersion): Record<string, unknown> {
  return {
    name: `${s.name}/versions/${v.number}`,
    state: v.state,
    create_time: date(v.createTime),
    destroy_time: date(v.destroyTime),
    scheduled_destroy_time: date(v.scheduledDestroyTime),
    etag: v.etag,
    client_specified_payload_checksum: v.clientSpecifiedPayloadChecksum,
  };
}
