import type { RpcMethod } from './faults';

/**
 * The three request quotas of Secret Manager (secret-manager/quotas, "Quotas on the rate of
 * requests"): an access request is any call to the access method; a read request is any
 * non-mutating operation except access (get and list of secrets and versions); a write request
 * is any mutating operation (create, update, delete a secret; add, enable, disable, destroy a
 * version). The page names no IAM method: we count SetIamPolicy as a write and GetIamPolicy and
 * TestIamPermissions as reads, by the same rule.
 */
export type RequestKind = 'read' | 'write' | 'access';
export const REQUEST_KINDS: readonly RequestKind[] = ['read', 'write', 'access'];

export const KIND_OF: Readonly<Record<RpcMethod, RequestKind>> = {
  listSecrets: 'read',
  getSecret: 'read',
  listSecretVersions: 'read',
  getSecretVersion: 'read',
  getIamPolicy: 'read',
  testIamPermissions: 'read',
  accessSecretVersion: 'access',
  createSecret: 'write',
  updateSecret: 'write',
  deleteSecret: 'write',
  addSecretVersion: 'write',
  enableSecretVersion: 'write',
  disableSecretVersion: 'write',
  destroySecretVersion: 'write',
  setIamPolicy: 'write',
  enableManagedRotation: 'write',
  rotateSecret: 'write',
};

/**
 * The resource a request names, as the client sent it (`name`, `parent`, `secret.name` or
 * `resource`); '' when it names none.
 */
export function resourceOf(request: unknown): string {
  const r = (request ?? {}) as {
    name?: unknown;
    parent?: unknown;
    resource?: unknown;
    secret?: { name?: unknown } | null;
  };
  for (const v of [r.name, r.secret?.name, r.parent, r.resource]) {
    if (typeof v === 'string' && v) return v;
  }
  return '';
}
