import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { type DatabasePayload, endpointOf } from '../secrets/payload';

/**
 * Which versions a rotation may adopt. AddSecretVersion has no etag, so a crash between the add and
 * the state write leaves an orphan that the resuming worker must recognise; but anyone with
 * `secretVersionAdder` can add versions too (a hand-typed `gcloud secrets versions add`). A version
 * is ours only when it proves it: its password is one this rotation generated, whose digest the
 * rotation recorded on the Secret (at the claim) before the version could exist. Nobody else knows
 * that password, so nobody else can produce such a version. The digest is salted with the rotation
 * id; the password is random (≥ 16 characters of a ~90-character alphabet), so the digest reveals
 * nothing usable.
 */
export function passwordDigest(rotationId: string, password: string): string {
  return createHash('sha256').update(`${rotationId}\n${password}`).digest('hex').slice(0, 32);
}

/**
 * Whether `candidate` is a version this rotation added: a password it generated (digest recorded),
 * for the login it meant (`pendingUsername`), on the server of `base`.
 */
export function isOwnPending(
  candidate: DatabasePayload,
  expected: {
    rotationId: string;
    digests: readonly string[];
    username: string;
    base: DatabasePayload;
  },
): boolean {
  return (
    expected.digests.includes(passwordDigest(expected.rotationId, candidate.password)) &&
    candidate.username === expected.username &&
    isDeepStrictEqual(endpointOf(candidate), endpointOf(expected.base))
  );
}

/**
 * Whether `candidate` is a copy of the credential `base` (the failure path's re-added current):
 * the same payload, so the real login that just proved `base` proves it too.
 */
export const isCopyOf = (candidate: DatabasePayload, base: DatabasePayload): boolean =>
  isDeepStrictEqual(candidate, base);
