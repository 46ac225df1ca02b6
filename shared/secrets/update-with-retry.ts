import { ConflictError } from '../errors';
import type { SecretChange, SecretSnapshot, SecretStore } from './secret-store';

const MAX_ATTEMPTS = 5;

/**
 * Read-modify-write on a Secret for writers that do not own a rotation (retirement records,
 * refresh records): compute the change from the freshest snapshot, write it with its etag, and on
 * a conflict read again and recompute. `change` returns undefined when there is nothing to write.
 * Returns the Secret as written (its etag is the next CAS token), or undefined when nothing was.
 */
export async function updateWithRetry(
  store: SecretStore,
  name: string,
  change: (snapshot: SecretSnapshot) => SecretChange | undefined,
  first?: SecretSnapshot,
): Promise<SecretSnapshot | undefined> {
  for (let attempt = 1; ; attempt++) {
    const snapshot = attempt === 1 && first ? first : await store.getSecret(name);
    const update = change(snapshot);
    if (!update) return undefined;
    try {
      return await store.updateSecret(snapshot, update);
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= MAX_ATTEMPTS) throw err;
    }
  }
}
