import type { RotationConfig } from '../shared/config/rotation-config';
import { PermanentError } from '../shared/errors';
import { readConfig } from '../shared/rotation/rotator';
import { SecretNotFoundError } from '../shared/secrets/errors';
import type { SecretSnapshot, SecretStore } from '../shared/secrets/secret-store';
import { notFoundError } from './exit-codes';
import { type Scope, secretCandidates } from './scope';

/** The secret a command argument names: the first candidate that exists (see secretCandidates). */
export async function findSecret(
  store: SecretStore,
  ref: string,
  scope: Scope,
): Promise<SecretSnapshot> {
  const candidates = secretCandidates(ref, scope);
  for (const name of candidates) {
    try {
      return await store.getSecret(name);
    } catch (err) {
      if (!(err instanceof SecretNotFoundError)) throw err;
    }
  }
  throw notFoundError(
    candidates.length === 1
      ? `secret not found: ${candidates[0]}`
      : `secret not found: ${ref} (looked for ${candidates.join(', ')})`,
  );
}

/**
 * The rotation config, or exit 3 with readConfig's own one-line reason (not managed, or which
 * annotation is invalid and why; never a value).
 */
export function managedConfig(snapshot: SecretSnapshot): RotationConfig {
  try {
    return readConfig(snapshot);
  } catch (err) {
    if (err instanceof PermanentError) throw notFoundError(err.message);
    throw err;
  }
}

/** A managed secret's config, or why it cannot be read (for listings that go on regardless). */
export function tryConfig(
  snapshot: SecretSnapshot,
): { config: RotationConfig; problem?: undefined } | { config?: undefined; problem: string } {
  try {
    return { config: readConfig(snapshot) };
  } catch (err) {
    if (err instanceof PermanentError) return { problem: err.message };
    throw err;
  }
}
