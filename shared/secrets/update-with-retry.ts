import { ConflictError } from '../errors';
import type { SecretChange, SecretSnapshot, SecretStore } from './secret-store';

const MAX_ATTEMPTS = 5;

/**
 * Read-modify-write on a Secret for writers that do not own a rotation (retirement records,
 * refresh records): compute the change from the freshest snapshot, write it with its etag, and on
 * a conflict read again and recompute. `change` returns undefined when there is nothing to write.
 */
export async function updateWithRetry(
  store: SecretStore,
  name: string,
  change: (snapshot: SecretSnapshot) => SecretChange | undefined,
  first?: SecretSnapshot,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const snapshot = attempt === 1 && first ? first : await store.getSecret(name);
    const update = change(snapshot);
    if (!update) return;
    try {
      await store.updateSecret(snapshot, update);
      return;
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= MAX_ATTEMPTS) throw err;
    }
  }
}
