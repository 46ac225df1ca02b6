import type { Credential } from '../engines/engine';
import { PermanentError } from '../errors';
import {
  credentialOf,
  type DatabasePayload,
  DatabasePayloadSchema,
  sameServer,
} from '../secrets/payload';
import { readCurrentValue } from '../secrets/read-current';
import type { SecretStore } from '../secrets/secret-store';

/**
 * The admin credential, read from its own secret by version number (strongly consistent) via its
 * `current` alias when it is itself managed, else its latest version. Confused-deputy guard: the
 * admin secret must describe the same server as the managed secret, so a tampered payload cannot
 * point the admin's rights at another database.
 */
export async function adminCredential(
  store: SecretStore,
  adminSecret: string,
  managed: DatabasePayload,
): Promise<Credential> {
  const text = await readCurrentValue(store, adminSecret);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError)
      throw new PermanentError(`admin secret ${adminSecret} is not JSON`);
    throw err;
  }
  const parsed = DatabasePayloadSchema.safeParse(json);
  if (!parsed.success) {
    throw new PermanentError(`admin secret ${adminSecret} is not a valid database payload`);
  }
  if (!sameServer(parsed.data, managed)) {
    throw new PermanentError(
      `admin secret ${adminSecret} names another server than the managed secret`,
    );
  }
  return credentialOf(parsed.data);
}
