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
import { fencedDeadline, persist, type RotationContext, type StateChange } from './context';
import { isCopyOf } from './provenance';
import { type HistoryEntry, readState } from './state';
import { loadPending, parsePayload } from './steps';

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
 * logs in, the pending one does not), the pending version is disabled, and — because `latest` is
 * simply the newest version and many consumers read it — the current payload is added again as a
 * newer version and `current` moves with it, after a real login proved it works.
 *
 * If the database cannot be reached, nothing can be proven: the pending version and its alias are
 * kept (the database may already accept it) and the rotation is marked unresolved; the next request
 * resumes it. The decision is persisted first, so a crash here resumes the clean-up, not the steps.
 */
export async function failRotation(ctx: RotationContext, reason: string): Promise<void> {
  const { store } = ctx.deps;
  const secret = ctx.snapshot.name;
  if (ctx.record.outcome !== 'failed') {
    await persist(ctx, { record: { outcome: 'failed', error: reason } });
  }
  const pendingVersion = ctx.record.pendingVersion;
  if (pendingVersion === undefined) {
    await persist(ctx, { record: { step: 'announce' }, history: failedEntry(ctx, reason) });
    return;
  }

  let change: StateChange;
  try {
    const endpoint = endpointOf(ctx.base);
    const base = credentialOf(ctx.base);
    // An unreadable pending version is treated as absent, but quota is not "unreadable": a
    // throttled read hands the delivery back (the rollback must not be skipped for it).
    const pending = await loadPending(ctx).catch((err: unknown) => {
      if (err instanceof ThrottledError) throw err;
      return undefined;
    });
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

    const versions = await store.listVersions(secret);
    const pendingInfo = versions.find((v) => v.number === pendingVersion);
    if (pendingInfo?.state === 'ENABLED') {
      await store.disableVersion(secret, pendingVersion, pendingInfo.etag);
    }
    // A copy added before an interruption is adopted, not added twice; but only a true copy of
    // the credential that just logged in, never any newer version (an operator's hand-added one).
    let copy: number | undefined;
    for (const v of versions
      .filter((v) => v.number > pendingVersion && v.state === 'ENABLED')
      .sort((a, b) => a.number - b.number)) {
      const payload = await store
        .accessVersion(secret, v.number)
        .then((data) => parsePayload(data, `version ${v.number}`))
        .catch((err: unknown) => {
          if (isPermanent(err)) return undefined;
          throw err;
        });
      if (payload && isCopyOf(payload, ctx.base)) {
        copy = v.number;
        break;
      }
    }
    copy ??= await store.addVersion(secret, JSON.stringify(ctx.base));
    // The copy holds the base credential: the consumers' confirmations for it carry over.
    const known = readState(ctx.snapshot.annotations).currentCredential;
    const origin =
      known?.current === ctx.record.baseVersion ? known.origin : ctx.record.baseVersion;
    change = {
      record: { step: 'announce', resultVersion: copy, unresolved: false },
      aliases: { set: { [ALIASES.current]: copy }, remove: [ALIASES.pending] },
      currentCredential: { current: copy, origin },
      history: failedEntry(ctx, reason),
    };
    ctx.log.warning('rolled back: current credential re-added as the newest version', {
      disabledVersion: pendingVersion,
      currentVersion: copy,
    });
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
