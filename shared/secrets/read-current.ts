import { ALIASES } from '../config/annotations';
import { PermanentError, RotatorError, TransientError } from '../errors';
import { VersionNotEnabledError } from './errors';
import type { SecretStore } from './secret-store';

/**
 * A supporting secret's value (admin credential, Databricks client secret or token), read the way
 * a careful consumer reads it: its `current` alias, resolved to a version number (strongly
 * consistent), when it has one (gsm-rotator manages it); else its newest ENABLED version. That is
 * `latest` as long as `latest` is enabled; when the newest version was disabled (a rolled-back bad
 * value) or destroyed, the versions are listed and the newest enabled one is read instead, so one
 * bad version does not stop every rotation that needs this secret.
 *
 * Secret Manager calls: getSecret + accessVersion (2); with a disabled newest version and no
 * alias, + listVersions + accessVersion (4). Errors keep their class and name the version tried.
 */
export async function readCurrentValue(store: SecretStore, name: string): Promise<string> {
  const snapshot = await store.getSecret(name);
  const aliased = snapshot.aliases[ALIASES.current];
  if (aliased !== undefined) return access(store, name, aliased, `its ${ALIASES.current} alias`);
  try {
    return await store.accessVersion(name, 'latest');
  } catch (err) {
    if (!(err instanceof VersionNotEnabledError)) throw named(err, name, 'latest', 'its newest');
  }
  // listVersions is newest first; sorting again costs nothing and does not rely on it.
  const enabled = (await store.listVersions(name))
    .filter((v) => v.state === 'ENABLED')
    .sort((a, b) => b.number - a.number)[0];
  if (!enabled) throw new PermanentError(`secret ${name} has no enabled version to read`);
  return access(store, name, enabled.number, 'its newest enabled version; latest is not enabled');
}

async function access(
  store: SecretStore,
  name: string,
  version: number,
  how: string,
): Promise<string> {
  try {
    return await store.accessVersion(name, version);
  } catch (err) {
    throw named(err, name, version, how);
  }
}

/** The same failure, its message naming the version that was tried; its class kept. */
function named(err: unknown, name: string, version: number | string, how: string): unknown {
  // Not ours to classify (a programming error): unchanged.
  if (!(err instanceof RotatorError)) return err;
  const message = `reading secret ${name} at version ${version} (${how}) failed: ${err.message}`;
  const options = { cause: err, context: { ...err.context, version } };
  return err instanceof TransientError
    ? new TransientError(message, options)
    : new PermanentError(message, options);
}
