import { ALIASES } from '../config/annotations';
import { PermanentError, RotatorError, TransientError } from '../errors';
import type { SecretStore } from './secret-store';

/**
 * A supporting secret's value (admin credential, Databricks client secret or token), read the way
 * a careful consumer reads it: its `current` alias, resolved to a version number (strongly
 * consistent), when it has one (gsm-rotator manages it); else its newest ENABLED version. Never
 * `latest`: that is the highest number whatever its state, and a newest version disabled after a
 * bad value (a rollback) would stop every rotation that needs this secret.
 *
 * Secret Manager calls: getSecret + accessVersion with an alias; getSecret + listVersions +
 * accessVersion without. Errors keep their class and name the version that was tried.
 */
export async function readCurrentValue(store: SecretStore, name: string): Promise<string> {
  const snapshot = await store.getSecret(name);
  const aliased = snapshot.aliases[ALIASES.current];
  let version: number;
  let how: string;
  if (aliased !== undefined) {
    version = aliased;
    how = `its ${ALIASES.current} alias`;
  } else {
    // listVersions is newest first; sorting again costs nothing and does not rely on it.
    const enabled = (await store.listVersions(name))
      .filter((v) => v.state === 'ENABLED')
      .sort((a, b) => b.number - a.number)[0];
    if (!enabled) {
      throw new PermanentError(`secret ${name} has no enabled version to read`);
    }
    version = enabled.number;
    how = 'its newest enabled version';
  }
  try {
    return await store.accessVersion(name, version);
  } catch (err) {
    // Not ours to classify (a programming error): unchanged.
    if (!(err instanceof RotatorError)) throw err;
    const message = `reading secret ${name} at version ${version} (${how}) failed: ${err.message}`;
    const options = { cause: err, context: { ...err.context, version } };
    if (err instanceof TransientError) throw new TransientError(message, options);
    throw new PermanentError(message, options);
  }
}
