import { crc32c } from '@aws-crypto/crc32c';
import {
  type ServerUnaryCall,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Logger } from '../../shared/logging/logger';
import type { CallCounter } from './call-counter';
import { notFound, SmError, unimplemented } from './errors';
import type { SecretEvent } from './events';
import type { FaultInjector, RpcMethod } from './faults';
import { compileFilter } from './filter';
import { getIamPolicy, setIamPolicy, testIamPermissions } from './iam-policies';
import { parseParent, parseSecretName, parseVersionName, versionNameOf } from './names';
import type { Dispatcher } from './notifications';
import { paginate } from './paging';
import type { QuotaLimiter } from './quotas';
import {
  canonicalMask,
  type ProtoSecret,
  SECRET_FILTER_FIELDS,
  secretFilterView,
  secretInputFromProto,
  secretToProto,
  VERSION_FILTER_FIELDS,
  versionFilterView,
  versionToProto,
} from './resources';
import type { SecretTable } from './secret-table';
import {
  assertCreatable,
  assertUpdatable,
  createSecret,
  deleteSecret,
  updateSecret,
} from './secret-writes';
import { validateTopics } from './validation';
import {
  accessVersion,
  addVersion,
  destroyVersion,
  disableVersion,
  enableVersion,
  getVersion,
  listVersions,
} from './version-ops';

/**
 * The gRPC handlers of google.cloud.secretmanager.v1.SecretManagerService: decode the request,
 * run the operation on the secret table, announce its events, persist, answer. Requests arrive decoded by the
 * API's own descriptors (proto-loader), which is the shape check; the operations judge the content.
 */
export interface ServiceDeps {
  secrets: SecretTable;
  dispatcher: Dispatcher;
  faults: FaultInjector;
  /** Counts every request that arrives, refused ones included. */
  calls: CallCounter;
  /** Refuses requests over Secret Manager's quotas (quota mode only). */
  quotas?: QuotaLimiter;
  /** Called after every change (persistence). */
  afterChange: () => void;
  logger: Logger;
}

interface ListRequest {
  parent?: string;
  pageSize?: number;
  pageToken?: string;
  filter?: string;
}
interface NameRequest {
  name?: string;
  etag?: string;
}
interface IamRequest {
  resource?: string;
  policy?: {
    version?: number;
    bindings?: unknown[];
    auditConfigs?: unknown[];
    etag?: Buffer;
  } | null;
  permissions?: string[];
}

export function createServiceImplementation(deps: ServiceDeps): UntypedServiceImplementation {
  const { secrets, dispatcher } = deps;

  const changed = (events: SecretEvent[]) => {
    dispatcher.dispatch(events);
    deps.afterChange();
  };

  const unary =
    <Req>(method: RpcMethod, handler: (request: Req) => unknown) =>
    async (call: ServerUnaryCall<Req, unknown>, callback: sendUnaryData<unknown>) => {
      try {
        deps.calls.record(method);
        // The API front end judges quota before the service sees the request.
        deps.quotas?.admit(method, call.request);
        const before = deps.faults.take(method, 'before');
        if (before) throw new SmError(before.code, before.message);
        const response = await handler(call.request);
        const after = deps.faults.take(method, 'after');
        if (after) throw new SmError(after.code, after.message);
        callback(null, response);
      } catch (err) {
        if (err instanceof SmError) {
          callback({ code: err.code, details: err.message });
          return;
        }
        deps.logger.error('secret manager emulator: internal error', { method, error: err });
        callback({ code: status.INTERNAL, details: 'Internal error encountered.' });
      }
    };

  return {
    ListSecrets: unary<ListRequest>('listSecrets', (req) => {
      const parent = parseParent(req.parent ?? '');
      const matches = compileFilter(req.filter, SECRET_FILTER_FIELDS);
      const listed = secrets.listSecrets(parent).filter((s) => matches(secretFilterView(s)));
      const page = paginate(listed, (s) => s.name, req.pageSize, req.pageToken);
      return {
        secrets: page.items.map(secretToProto),
        nextPageToken: page.nextPageToken,
        totalSize: page.totalSize,
      };
    }),

    CreateSecret: unary<{ parent?: string; secretId?: string; secret?: ProtoSecret | null }>(
      'createSecret',
      async (req) => {
        const parent = parseParent(req.parent ?? '');
        const input = secretInputFromProto(req.secret);
        assertCreatable(secrets, parent, req.secretId);
        if (input.topics.length > 0) await configureTopics(input.topics);
        const change = createSecret(secrets, parent, req.secretId, input);
        changed(change.events);
        return secretToProto(change.result);
      },
    ),

    UpdateSecret: unary<{ secret?: ProtoSecret | null; updateMask?: { paths?: string[] } | null }>(
      'updateSecret',
      async (req) => {
        const ref = parseSecretName(req.secret?.name ?? '');
        const input = secretInputFromProto(req.secret);
        const paths = req.updateMask ? (req.updateMask.paths ?? []) : undefined;
        if (paths && input.topics.length > 0 && canonicalMask(paths).includes('topics')) {
          // Production publishes to the topics after the existence and etag checks, before
          // judging anything else.
          assertUpdatable(secrets, ref, input.etag);
          await configureTopics(input.topics);
        }
        const change = updateSecret(secrets, ref, input, paths);
        changed(change.events);
        return secretToProto(change.result);
      },
    ),

    DeleteSecret: unary<NameRequest>('deleteSecret', (req) => {
      const change = deleteSecret(secrets, parseSecretName(req.name ?? ''), req.etag);
      changed(change.events);
      return {};
    }),

    GetSecret: unary<NameRequest>('getSecret', (req) =>
      secretToProto(secrets.getSecret(parseSecretName(req.name ?? ''))),
    ),

    AddSecretVersion: unary<{
      parent?: string;
      payload?: { data?: Buffer; dataCrc32c?: string } | null;
    }>('addSecretVersion', (req) => {
      const ref = parseSecretName(req.parent ?? '');
      const change = addVersion(
        secrets,
        ref,
        req.payload?.data ?? Buffer.alloc(0),
        req.payload?.dataCrc32c,
      );
      changed(change.events);
      return versionToProto(secrets.getSecret(ref), change.result);
    }),

    ListSecretVersions: unary<ListRequest>('listSecretVersions', (req) => {
      const ref = parseSecretName(req.parent ?? '');
      const secret = secrets.getSecret(ref);
      const matches = compileFilter(req.filter, VERSION_FILTER_FIELDS);
      const versions = listVersions(secrets, ref).filter((v) =>
        matches(versionFilterView(secret, v)),
      );
      const page = paginate(versions, (v) => String(v.number), req.pageSize, req.pageToken);
      return {
        versions: page.items.map((v) => versionToProto(secret, v)),
        nextPageToken: page.nextPageToken,
        totalSize: page.totalSize,
      };
    }),

    GetSecretVersion: unary<NameRequest>('getSecretVersion', (req) => {
      const { secret, version } = getVersion(secrets, parseVersionName(req.name ?? ''));
      return versionToProto(secret, version);
    }),

    AccessSecretVersion: unary<NameRequest>('accessSecretVersion', (req) => {
      const { secret, version, payload } = accessVersion(secrets, parseVersionName(req.name ?? ''));
      return {
        name: versionNameOf(secret.name, version.number),
        payload: { data: payload, dataCrc32c: String(crc32c(payload)) },
      };
    }),

    DisableSecretVersion: unary<NameRequest>('disableSecretVersion', (req) =>
      versionChange(disableVersion(secrets, parseVersionName(req.name ?? ''), req.etag), req),
    ),

    EnableSecretVersion: unary<NameRequest>('enableSecretVersion', (req) =>
      versionChange(enableVersion(secrets, parseVersionName(req.name ?? ''), req.etag), req),
    ),

    DestroySecretVersion: unary<NameRequest>('destroySecretVersion', (req) =>
      versionChange(destroyVersion(secrets, parseVersionName(req.name ?? ''), req.etag), req),
    ),

    SetIamPolicy: unary<IamRequest>('setIamPolicy', (req) => {
      const ref = parseSecretName(req.resource ?? '');
      const policy = setIamPolicy(secrets, ref, {
        ...(req.policy?.version ? { version: req.policy.version } : {}),
        bindings: req.policy?.bindings ?? [],
        auditConfigs: req.policy?.auditConfigs ?? [],
        ...(req.policy?.etag?.length ? { etag: req.policy.etag.toString('base64') } : {}),
      });
      deps.afterChange();
      return { ...policy, etag: Buffer.from(policy.etag, 'base64') };
    }),

    GetIamPolicy: unary<IamRequest>('getIamPolicy', (req) => {
      const policy = getIamPolicy(secrets, parseSecretName(req.resource ?? ''));
      return { ...policy, etag: Buffer.from(policy.etag, 'base64') };
    }),

    TestIamPermissions: unary<IamRequest>('testIamPermissions', (req) => ({
      permissions: testIamPermissions(
        secrets,
        parseSecretName(req.resource ?? ''),
        req.permissions ?? [],
      ),
    })),

    EnableManagedRotation: unary('enableManagedRotation', () => {
      throw unimplemented('Managed rotation of Cloud SQL credentials is not emulated.');
    }),

    RotateSecret: unary('rotateSecret', () => {
      throw unimplemented('Managed rotation of Cloud SQL credentials is not emulated.');
    }),
  };

  function versionChange(change: ReturnType<typeof enableVersion>, req: NameRequest): unknown {
    changed(change.events);
    const secret = secrets.getSecret(parseVersionName(req.name ?? '').secret);
    return versionToProto(secret, change.result);
  }

  async function configureTopics(topics: string[]): Promise<void> {
    validateTopics(topics);
    const { missing } = await dispatcher.configureTopics(topics);
    if (missing) throw notFound(`Topic [${missing}] not found.`);
  }
}
