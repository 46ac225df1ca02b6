import { isPermanent } from '../errors';
import type { Logger } from '../logging/logger';
import { parseStaged } from '../rotation/staging';
import { type RotationState, readState, type StagedRefRecord, withState } from '../rotation/state';
import type { SecretSnapshot, SecretStore } from '../secrets/secret-store';
import { updateWithRetry } from '../secrets/update-with-retry';

/**
 * Destroy the staged copies (shared/rotation/staging.ts) of a managed secret's finished rotations,
 * listed in its state by promote or by a rollback (`stagedToDestroy`). Destroyed, not disabled: a
 * disabled version is billed and still holds a password. Returns the entries dealt with, for the
 * caller to drop from the list in a write it makes anyway (retirePrevious' last write), or with
 * forgetStaged.
 *
 * The list lives on the managed secret, which its writers can edit, so each entry is checked
 * against what it names before anything is destroyed: the staging secret must be one of the
 * deployment's (`stagingSecrets`, a setting) and the staged payload must say it belongs to this
 * managed secret and that rotation. A writer can thus only get its own secret's finished
 * rotations' copies destroyed. An entry already destroyed (or disabled: unreadable, so unproven)
 * is dropped after its access.
 *
 * Calls per entry: 1 AccessSecretVersion + 1 DestroySecretVersion; none when the list is empty.
 * Skipped while a rotation is in flight. A transient failure throws: the next tick retries.
 */
export async function destroyStaged(
  snapshot: SecretSnapshot,
  deps: { store: SecretStore; stagingSecrets: readonly string[] },
  log: Logger,
): Promise<StagedRefRecord[]> {
  const state = readState(snapshot.annotations);
  const entries = state.stagedToDestroy ?? [];
  if (entries.length === 0 || state.status === 'rotating') return [];
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
  return done;
}

/** The state without the `done` entries of its stagedToDestroy list. */
export function withoutStaged(
  state: RotationState,
  done: readonly StagedRefRecord[],
): RotationState {
  const isDone = (d: StagedRefRecord) =>
    done.some((e) => e.secret === d.secret && e.version === d.version);
  const { stagedToDestroy, ...rest } = state;
  const left = (stagedToDestroy ?? []).filter((d) => !isDone(d));
  return left.length > 0 ? { ...rest, stagedToDestroy: left } : rest;
}

/**
 * Drop the `done` entries from the Secret's list (1 UpdateSecret, plus a GetSecret on a
 * conflict); returns the Secret as written, the next CAS token.
 */
export async function forgetStaged(
  store: SecretStore,
  snapshot: SecretSnapshot,
  done: readonly StagedRefRecord[],
): Promise<SecretSnapshot> {
  if (done.length === 0) return snapshot;
  const written = await updateWithRetry(
    store,
    snapshot.name,
    (fresh) => {
      const state = readState(fresh.annotations);
      const next = withoutStaged(state, done);
      if ((next.stagedToDestroy?.length ?? 0) === (state.stagedToDestroy?.length ?? 0)) {
        return undefined;
      }
      return { annotations: withState(fresh.annotations, next) };
    },
    snapshot,
  );
  return written ?? snapshot;
}
