import { isPermanent } from '../errors';
import type { Logger } from '../logging/logger';
import { parseStaged } from '../rotation/staging';
import { readState, type StagedRefRecord, withState } from '../rotation/state';
import type { SecretSnapshot, SecretStore } from '../secrets/secret-store';
import { updateWithRetry } from '../secrets/update-with-retry';

/** Whether a managed secret has staged credentials waiting for destruction (no call). */
export const hasStagedToDestroy = (snapshot: SecretSnapshot): boolean =>
  (readState(snapshot.annotations).stagedToDestroy?.length ?? 0) > 0;

/**
 * Destroy the staged copies (shared/rotation/staging.ts) of a managed secret's finished rotations,
 * listed in its state by promote or by a rollback (`stagedToDestroy`), then drop them from the
 * list. Destroyed, not disabled: a disabled version is billed and still holds a password.
 *
 * The list lives on the managed secret, which its writers can edit, so each entry is checked
 * against what it names before anything is destroyed: the staging secret must be one of the
 * deployment's (`stagingSecrets`, a setting) and the staged payload must say it belongs to this
 * managed secret and that rotation. A writer can thus only get its own secret's finished
 * rotations' copies destroyed. An entry already destroyed (or disabled: unreadable, so unproven)
 * is dropped without a call beyond its access.
 *
 * Calls, per entry: 1 AccessSecretVersion + 1 DestroySecretVersion; then 1 UpdateSecret (plus a
 * GetSecret on a conflict) for the whole list. Nothing when the list is empty. A transient failure
 * throws: the next tick retries what is left. Skipped while a rotation is in flight (its writes
 * would conflict with ours). Returns the Secret as it is afterwards (the next CAS token).
 */
export async function destroyStaged(
  snapshot: SecretSnapshot,
  deps: { store: SecretStore; stagingSecrets: readonly string[] },
  log: Logger,
): Promise<SecretSnapshot> {
  const state0 = readState(snapshot.annotations);
  const entries = state0.stagedToDestroy ?? [];
  if (entries.length === 0 || state0.status === 'rotating') return snapshot;
  const done: StagedRefRecord[] = [];
  for (const entry of entries) {
    if (!deps.stagingSecrets.includes(entry.secret)) {
      log.warning('a staged version to destroy is not in a staging secret of this deployment', {
        event: 'retire.staged-refused',
        stagingSecret: entry.secret,
        version: entry.version,
      });
      done.push(entry);
      continue;
    }
    let owner: { secret: string; rotationId: string } | undefined;
    try {
      const staged = parseStaged(
        await deps.store.accessVersion(entry.secret, entry.version),
        `staged version ${entry.version}`,
      );
      owner = { secret: staged.secret, rotationId: staged.rotationId };
    } catch (err) {
      if (!isPermanent(err)) throw err;
    }
    if (owner && owner.secret === snapshot.name && owner.rotationId === entry.rotationId) {
      await deps.store.destroyVersion(entry.secret, entry.version);
      log.info('destroyed the staged copy of a finished rotation', {
        event: 'retire.staged-destroyed',
        stagingSecret: entry.secret,
        version: entry.version,
        rotationId: entry.rotationId,
      });
    } else if (owner) {
      log.warning('a staged version to destroy belongs to another rotation: left alone', {
        event: 'retire.staged-refused',
        stagingSecret: entry.secret,
        version: entry.version,
      });
    }
    done.push(entry);
  }
  const isDone = (d: StagedRefRecord) =>
    done.some((e) => e.secret === d.secret && e.version === d.version);
  const written = await updateWithRetry(
    deps.store,
    snapshot.name,
    (fresh) => {
      const state = readState(fresh.annotations);
      const left = (state.stagedToDestroy ?? []).filter((d) => !isDone(d));
      if (left.length === (state.stagedToDestroy ?? []).length) return undefined;
      const { stagedToDestroy: _, ...rest } = state;
      return {
        annotations: withState(
          fresh.annotations,
          left.length > 0 ? { ...rest, stagedToDestroy: left } : rest,
        ),
      };
    },
    snapshot,
  );
  return written ?? snapshot;
}
