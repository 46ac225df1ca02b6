import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';

/** The staging secret's id in local stacks, tests and benchmarks (terraform: staging.tf). */
export const STAGING_SECRET_ID = 'gsm-rotator-staging';

/**
 * Create the deployment-wide staging secret (shared/rotation/staging.ts) in `project`, as the
 * terraform module does, and return its full name for ROTATOR_STAGING_SECRET. No labels: it is
 * not a managed secret, and the retire tick's listing must not see it. An existing one is kept.
 */
export async function createStagingSecret(
  client: SecretManagerServiceClient,
  project: string,
  id: string = STAGING_SECRET_ID,
): Promise<string> {
  const name = `projects/${project}/secrets/${id}`;
  try {
    await client.createSecret({
      parent: `projects/${project}`,
      secretId: id,
      secret: { replication: { automatic: {} } },
    });
  } catch (err) {
    // ALREADY_EXISTS: a stack restarted on its saved state.
    if ((err as { code?: number }).code !== 6) throw err;
  }
  return name;
}
