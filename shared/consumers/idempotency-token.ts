import { createHash } from 'node:crypto';

/**
 * The run-now idempotency token of a rotation's job refresh: the same rotation and job always give
 * the same token, so a redelivered event gets the run that was already started instead of a
 * second one. Hashed because a rotation id plus a job id can exceed the 64 characters Databricks
 * allows, and the hash keeps the token opaque.
 */
export function runNowToken(rotationId: string, jobId: number): string {
  const digest = createHash('sha256').update(`${rotationId}\u0000${jobId}`).digest('hex');
  return `gsm-rotator-${digest.slice(0, 48)}`;
}
