import { ALIASES } from '../config/annotations';
import type { SecretStore } from './secret-store';

/**
 * A supporting secret's value (admin credential, Databricks client secret or token): through its
 * `current` alias resolved to a version number (strongly consistent) when gsm-rotator manages it,
 * else its latest version.
 */
export async function readCurrentValue(store: SecretStore, name: string): Promise<string> {
  const snapshot = await store.getSecret(name);
  return store.accessVersion(name, snapshot.aliases[ALIASES.current] ?? 'latest');
}
