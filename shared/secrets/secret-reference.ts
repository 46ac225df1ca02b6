import { readCurrentValue } from './read-current';
import type { SecretStore } from './secret-store';

/**
 * A secret reference as a Databricks workspace config names a credential: a short id (a secret
 * in `projectId`), a full secret name (`projects/P/secrets/S` or the regional
 * `projects/P/locations/L/secrets/S`, read at its current value) or a full version name
 * (`…/secrets/S/versions/V`, V a number or an alias).
 */
export interface SecretReference {
  /** The full secret name. */
  secret: string;
  /** The version or alias, when the reference names one. */
  version?: string;
}

/** Parse a reference (see SecretReference); a short id is taken to live in `projectId`. */
export function parseSecretReference(ref: string, projectId: string): SecretReference {
  const full = ref.startsWith('projects/') ? ref : `projects/${projectId}/secrets/${ref}`;
  const [, secret = full, version] = /^(.*?)(?:\/versions\/([^/]+))?$/.exec(full) ?? [];
  return version ? { secret, version } : { secret };
}

/** The value a reference names: that version, or the secret's current value. */
export function readSecretReference(
  store: SecretStore,
  ref: string,
  projectId: string,
): Promise<string> {
  const { secret, version } = parseSecretReference(ref, projectId);
  return version ? store.accessVersion(secret, version) : readCurrentValue(store, secret);
}
