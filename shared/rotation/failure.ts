import { ALIASES } from '../config/annotations';
import {
  ConflictError,
  describeError,
  isPermanent,
  PermanentError,
  ThrottledError,
} from '../errors';
import { credentialOf, endpointOf } from '../secrets/payload';
import { adminCredentialFor } from './admin';
import type { RotationContext, StateChange } from './context';
import { fencedDeadline } from './fencing';
import { persist } from './persist';
import { isCopyOf } from './provenance';
import { type HistoryEntry, readState } from './state';
import { findManagedOrphans, findPending, readPayloadIfReadable } from './steps';

function failedEntry(ctx: RotationContext, error: string): HistoryEntry {
  const r = ctx.record;
  return {
    id: r.id,
    trigger: r.trigger,
    ...(r.requestedBy ? { requestedBy: r.requestedBy } : {}),
    outcome: 'failed',
    startedAt: r.startedAt,
    completedAt: ctx.deps.clock.now(),
    fromVersion: r.baseVersion,
    attempts: r.attempt,
    error,
  };
}

/**
 * A rotation that cannot succeed ends here: the database is put back (the current credential
 * logs in, the pending one does not) and the staged credential is handed to retirement for
 * destruction. The managed secret never held the pending credential, so `latest` and `current`
 * still name the base credential; only a promote that added its version and died before moving
 * `current` leaves a managed orphan: it is disabled, and the current payload is added again as
 * the newest version (with `current` moved to it) so `latest` keeps working.
 *
 * If the database cannot be reached, nothing can be proven: the staged credential is kept (the
 * database may already accept it; the record names it) and the rotation is marked unresolved; the
 * next request resumes it. With alternating-users and dual-password `latest` and `current` keep
 * working meanwhile; with single-user a `set` that already ran killed the base password (README,
 * "Strategies"). The decision is persisted first, so a crash here resumes the clean-up.
 */
export async function failRotation(ctx: RotationContext, reason: string): Promise<void> {
  if (ctx.record.outcome !== 'failed') {
    await persist(ctx, { record: { outcome: 'failed', error: reason } });
  }
  // Transient trouble finding it (Secret Manager down) must not pass for "nothing staged".
  const pending = await findPending(ctx).catch((err: unknown) => {
    if (isPermanent(err)) return undefined;
    throw err;
  });
  if (pending === undefined && ctx.staged === undefined && ctx.record.staged === undefined) {
    await persist(ctx, { record: { step: 'announce' }, history: failedEntry(ctx, reason) });
    return;
  }

  let change: StateChange;
  try {
    const endpoint = endpointOf(ctx.base);
    const base = credentialOf(ctx.base);
    if (pending) {
      const pendingWorks = (await ctx.engine.tryLogin(endpoint, credentialOf(pending))).ok;
      const baseWorks = (await ctx.engine.tryLogin(endpoint, base)).ok;
      if (pendingWorks || !baseWorks) {
        const sessionCred =
          ctx.config.adminSecret === 'self'
            ? credentialOf(baseWorks ? ctx.base : pending)
            : await adminCredentialFor(ctx);
        await ctx.engine.withSession(
          endpoint,
          sessionCred,
          (s) => ctx.strategy.rollback(s, base, credentialOf(pending)),
          { deadline: await fencedDeadline(ctx) },
        );
      }
    }
    if (!(await ctx.engine.tryLogin(endpoint, base)).ok) {
      throw new PermanentError('the current credential does not log in after the rollback');
    }
    const orphans = pending ? await findManagedOrphans(ctx, pending) : [];
    // The base credential just logged in: a secret that had no `current` yet (never adopted)
    // gets it now, in the same write.
    const base0 = ctx.record.baseVersion;
    const pin =
      ctx.snapshot.aliases[ALIASES.current] === undefined
        ? { aliases: { set: { [ALIASES.current]: base0 } }, record: { resultVersion: base0 } }
        : {};
    change = {
      record: { step: 'announce', unresolved: false, ...pin.record },
      history: failedEntry(ctx, reason),
      ...(ctx.staged ? { destroyStaged: ctx.staged } : {}),
      ...(pin.aliases ? { aliases: pin.aliases } : {}),
      ...(orphans.length > 0 ? await replaceOrphans(ctx, orphans) : {}),
    };
  } catch (err) {
    // Lost ownership: whoever took over finishes the clean-up. Quota: the redelivery finishes it
    // (the failure is already recorded); the database state is not unknown for it.
    if (err instanceof ConflictError || err instanceof ThrottledError) throw err;
    // One outage, one story: the cause is named once, even when the rollback met the same
    // failure that ended the rotation (the database still down). The skeleton logs the outcome.
    const cause = describeError(err).message;
    const why = reason.includes(cause)
      ? `${reason}; database state unknown`
      : `${reason}; database state unknown (${cause})`;
    change = {
      record: { step: 'announce', unresolved: true, error: why },
      history: failedEntry(ctx, why),
    };
  }
  await persist(ctx, change);
}

/**
 * Managed versions a dead promote added hold the rolled-back (now dead) credential and sit above
 * `current`: disable them, and add the current payload again as the newest version so `latest`
 * works (a copy added before an interruption is adopted, never added twice).
 */
async function replaceOrphans(ctx: RotationContext, orphans: number[]): Promise<StateChange> {
  const { store } = ctx.deps;
  const secret = ctx.snapshot.name;
  const versions = await store.listVersions(secret);
  for (const n of orphans) {
    const info = versions.find((v) => v.number === n);
    if (info?.state === 'ENABLED') await store.disableVersion(secret, n, info.etag);
  }
  const newest = Math.max(...orphans);
  let copy: number | undefined;
  for (const v of versions
    .filter((v) => v.number > newest && v.state === 'ENABLED')
    .sort((a, b) => a.number - b.number)) {
    const payload = await readPayloadIfReadable(store, secret, v.number);
    if (payload && isCopyOf(payload, ctx.base)) {
      copy = v.number;
      break;
    }
  }
  copy ??= await store.addVersion(secret, JSON.stringify(ctx.base));
  // The copy holds the base credential: the consumers' confirmations for it carry over.
  const known = readState(ctx.snapshot.annotations).currentCredential;
  const origin = known?.current === ctx.record.baseVersion ? known.origin : ctx.record.baseVersion;
  ctx.log.warning('rolled back: current credential re-added as the newest version', {
    disabledVersions: orphans,
    currentVersion: copy,
  });
  return {
    record: { step: 'announce', unresolved: false, resultVersion: copy },
    aliases: { set: { [ALIASES.current]: copy }, remove: [ALIASES.pending] },
    currentCredential: { current: copy, origin },
  };
}
