import { STATE_KEYS } from '../config/annotations';
import { ConflictError } from '../errors';
import type { SecretChange, SecretSnapshot, SecretStore } from '../secrets/secret-store';
import type { AliasChange, RotationContext, StateChange } from './context';
import {
  type RotationRecord,
  type RotationState,
  readHistory,
  readState,
  withState,
} from './state';

const MAX_CAS_RETRIES = 5;

/**
 * UpdateSecret, surviving a lost response: when the call fails with anything but a conflict, the
 * write may still have been applied. Re-read, and if the state annotation is exactly what we
 * wrote, it was: carry on instead of treating our own write as someone else's.
 */
export async function updateOrConfirm(
  store: SecretStore,
  snapshot: SecretSnapshot,
  change: SecretChange,
): Promise<SecretSnapshot> {
  try {
    return await store.updateSecret(snapshot, change);
  } catch (err) {
    if (err instanceof ConflictError) throw err;
    const written = change.annotations?.[STATE_KEYS.state];
    const fresh = await store.getSecret(snapshot.name).catch(() => undefined);
    if (written !== undefined && fresh?.annotations[STATE_KEYS.state] === written) return fresh;
    throw err;
  }
}

export function applyAliases(
  current: Record<string, number>,
  change?: AliasChange,
): Record<string, number> {
  const out = { ...current, ...(change?.set ?? {}) };
  for (const k of change?.remove ?? []) delete out[k];
  return out;
}

/**
 * The one way rotation state is written: read-modify-write with the Secret's etag. Other writers
 * (refreshConsumers' records, retireVersions, an operator's gcloud) may change the Secret in
 * between; on a conflict we re-read, check that the rotation is still ours, and re-apply.
 */
export async function persist(ctx: RotationContext, change: StateChange): Promise<void> {
  const { store, clock } = ctx.deps;
  let snapshot = ctx.snapshot;
  for (let attempt = 1; ; attempt++) {
    const state = readState(snapshot.annotations);
    if (snapshot !== ctx.snapshot) {
      const r = state.rotation;
      if (
        state.status !== 'rotating' ||
        r?.id !== ctx.record.id ||
        r.holder !== ctx.record.holder
      ) {
        throw new ConflictError('rotation was taken over by another worker', {
          context: { rotationId: ctx.record.id },
        });
      }
    }
    const record: RotationRecord = {
      ...ctx.record,
      ...(ctx.staged ? { staged: ctx.staged } : {}),
      ...change.record,
      // A released lease keeps the time it was given up: expired for a takeover, and the last
      // sign of life for the overdue check (shared/retirement/overdue.ts).
      leaseUntil: clock.now() + (change.releaseLease ? 0 : ctx.deps.settings.leaseMs),
    };
    const next: RotationState = {
      ...state,
      status: change.status ?? 'rotating',
      rotation: record,
      ...(change.promotedAt === undefined ? {} : { promotedAt: change.promotedAt }),
      ...(change.currentCredential === undefined
        ? {}
        : { currentCredential: change.currentCredential }),
      ...(change.destroyStaged === undefined
        ? {}
        : {
            stagedToDestroy: [
              ...(state.stagedToDestroy ?? []).filter(
                (d) =>
                  d.secret !== change.destroyStaged?.secret ||
                  d.version !== change.destroyStaged.version,
              ),
              change.destroyStaged,
            ],
          }),
    };
    const history = change.history
      ? [change.history, ...readHistory(snapshot.annotations)]
      : undefined;
    try {
      ctx.snapshot = await updateOrConfirm(store, snapshot, {
        annotations: withState(snapshot.annotations, next, history),
        ...(change.aliases ? { aliases: applyAliases(snapshot.aliases, change.aliases) } : {}),
        ...(change.nextRotationTime === undefined
          ? {}
          : { rotation: { nextRotationTime: change.nextRotationTime } }),
      });
      ctx.record = record;
      return;
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= MAX_CAS_RETRIES) throw err;
      snapshot = await store.getSecret(snapshot.name);
    }
  }
}
