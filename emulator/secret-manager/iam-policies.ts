import { status } from '@grpc/grpc-js';
import { SmError } from './errors';
import type { IamPolicy } from './model';
import type { SecretRef } from './names';
import type { SecretTable } from './secret-table';

/** IAM policies: kept and returned, never enforced (the emulator has no identities). */

/** The etag of a policy never set: production answers `ACAB` (base64). */
const EMPTY_POLICY_ETAG = 'ACAB';

export function getIamPolicy(table: SecretTable, ref: SecretRef): IamPolicy {
  return table.getSecret(ref).iamPolicy ?? { etag: EMPTY_POLICY_ETAG };
}

export function setIamPolicy(
  table: SecretTable,
  ref: SecretRef,
  policy: Omit<IamPolicy, 'etag'> & { etag?: string },
): IamPolicy {
  const secret = table.getSecret(ref);
  const current = secret.iamPolicy?.etag ?? EMPTY_POLICY_ETAG;
  if (policy.etag && policy.etag !== current) {
    throw new SmError(
      status.ABORTED,
      'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.',
    );
  }
  const etag = Buffer.from(table.options.etags.next()).toString('base64');
  secret.iamPolicy = {
    ...(policy.version ? { version: policy.version } : {}),
    bindings: policy.bindings ?? [],
    ...(policy.auditConfigs?.length ? { auditConfigs: policy.auditConfigs } : {}),
    etag,
  };
  return secret.iamPolicy;
}

/** Fails open, as the API documents: every permission asked about, or none for no secret. */
export function testIamPermissions(
  table: SecretTable,
  ref: SecretRef,
  permissions: string[],
): string[] {
  return table.secrets.has(ref.name) ? permissions : [];
}
