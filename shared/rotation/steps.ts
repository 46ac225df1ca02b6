import { ALIASES } from '../config/annotations';
import { isPermanent, PermanentError } from '../errors';
import {
  outcomeAttributes,
  ROTATION_OUTCOME_SCHEMA,
  type RotationOutcome,
} from '../events/rotation-outcome';
import { nextRotationTimeToSet } from '../schedule/sync';
import {
  credentialOf,
  type DatabasePayload,
  DatabasePayloadSchema,
  endpointOf,
} from '../secrets/payload';
import type { SecretStore } from '../secrets/secret-store';
import { formatIssues } from '../zod-issues';
import { adminCredentialFor } from './admin';
import type { RotationContext, StateChange } from './context';
import { fencedDeadline } from './fencing';
import { proveParity } from './parity';
import { isCopyOf } from './provenance';
import { findStagedOrphan, readStaged, stage, stagingSecretFor } from './staging';
import { readHistory, type StepName } from './state';

/**
 * The five steps. Each first checks whether its work is already done (a redelivery after a crash
 * lands in the middle of any of them) and returns the state change that records it. The skeleton
 * in rotator.ts persists (compare-and-swap) only after the steps in PERSISTED_STEPS; create, set
 * and test change nothing a redelivery could not find again (an orphan search, a login probe, a
 * read-only test), so their progress stays in memory (Secret Manager writes are quota).
 */
export type Step = (ctx: RotationContext) => Promise<StateChange>;

/**
 * Validate a version's JSON and return it as read: the schema checks, it never rewrites, so the
 * object keeps every field's type and order and a new version built from it (`{ ...base,
 * username, password }`) copies them unchanged.
 */
export function parsePayload(data: string, what: string): DatabasePayload {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw new PermanentError(`${what} is not JSON`);
  }
  const parsed = DatabasePayloadSchema.safeParse(json);
  if (!parsed.success) {
    throw new PermanentError(
      `${what} is not a valid database payload: ${formatIssues(parsed.error)}`,
    );
  }
  // The input, not parsed.data: zod's output lists the schema's keys first.
  return json as DatabasePayload;
}

/**
 * The pending credential of this rotation, cached: the one create staged in this delivery, the
 * staged version recorded on the Secret (read by number, strongly consistent), or, on a resumed
 * rotation, an orphan an earlier delivery staged before anything recorded it. Undefined when
 * nothing was staged (the database never learned a pending credential).
 */
export async function findPending(ctx: RotationContext): Promise<DatabasePayload | undefined> {
  if (ctx.pending) return ctx.pending;
  const { store } = ctx.deps;
  const owner = { secret: ctx.snapshot.name };
  const recorded = ctx.staged ?? ctx.record.staged;
  if (recorded) {
    ctx.pending = await readStaged(store, recorded, { ...owner, rotationId: recorded.rotationId });
    ctx.staged = recorded;
    return ctx.pending;
  }
  if (!ctx.resumed) return undefined;
  const orphan = await findStagedOrphan(store, stagingSecretOf(ctx), {
    ...owner,
    rotationId: ctx.record.id,
    startedAt: ctx.record.startedAt,
    digests: ctx.record.pendingDigests ?? [],
    username: ctx.strategy.pendingUsername(ctx.base.username, ctx.config, ctx.engine),
    base: ctx.base,
  });
  if (!orphan) return undefined;
  ctx.log.info('adopted a pending credential staged before an interruption', {
    event: 'rotation.adopted',
    stagedVersion: orphan.ref.version,
  });
  ctx.staged = { ...orphan.ref, rotationId: ctx.record.id };
  ctx.pending = orphan.payload;
  return ctx.pending;
}

/** The pending credential, which the steps after create need. */
export async function loadPending(ctx: RotationContext): Promise<DatabasePayload> {
  const pending = await findPending(ctx);
  if (!pending) throw new Error('no pending credential staged');
  return pending;
}

/**
 * The staging secret this managed secret uses (a stable shard of ROTATOR_STAGING_SECRET; the
 * rotator refuses to start without one, rotator.ts).
 */
const stagingSecretOf = (ctx: RotationContext): string =>
  stagingSecretFor(ctx.snapshot.name, ctx.deps.settings.stagingSecrets);

/**
 * create: decide the new credential and stage it BEFORE the database knows it, so a crash can
 * never lose a password the database accepts (invariant 1). It goes to the staging secret, not
 * the managed one: consumers read the managed secret's `latest`, which must keep working.
 * AddSecretVersion has no etag and is not idempotent: a resumed rotation first adopts what an
 * earlier delivery staged (findPending), and only a fresh credential whose digest the claim
 * recorded is ever staged. Nothing is persisted here: a kill before the next write is found by
 * the redelivery's orphan search.
 */
const create: Step = async (ctx) => {
  const existing = await findPending(ctx);
  if (existing) return { record: { pendingUsername: existing.username } };
  const password = ctx.generatedPassword;
  // The claim generates one whenever nothing is staged; its digest is already on the Secret.
  if (password === undefined) throw new Error('no password was generated at the claim');
  ctx.deps.redactor.add(password);
  const username = ctx.strategy.pendingUsername(ctx.base.username, ctx.config, ctx.engine);
  const pending: DatabasePayload = { ...ctx.base, username, password };
  const stagingSecret = stagingSecretOf(ctx);
  const version = await stage(
    ctx.deps.store,
    stagingSecret,
    { secret: ctx.snapshot.name, rotationId: ctx.record.id },
    pending,
  );
  ctx.pending = pending;
  ctx.staged = { secret: stagingSecret, version, rotationId: ctx.record.id };
  ctx.deps.failpoint?.('staged');
  const previous = ctx.snapshot.aliases[ALIASES.previous];
  if (ctx.strategy.keepsPrevious && previous !== undefined && previous !== ctx.record.baseVersion) {
    ctx.log.warning('rotating before the previous version was retired: it stops working now', {
      previousVersion: previous,
    });
  }
  return { record: { pendingUsername: username } };
};

/** The session that may change logins: the admin's, or the user's own (single-user, `self`). */
async function sessionCredential(ctx: RotationContext, own: DatabasePayload) {
  return ctx.config.adminSecret === 'self' ? credentialOf(own) : adminCredentialFor(ctx);
}

/** set: make the pending credential valid. If it already logs in, the step is done. */
const set: Step = async (ctx) => {
  const pending = await loadPending(ctx);
  const endpoint = endpointOf(ctx.base);
  const probe = await ctx.engine.tryLogin(endpoint, credentialOf(pending));
  if (probe.ok) return {};
  const sessionCred = await sessionCredential(ctx, ctx.base);
  await ctx.engine.withSession(
    endpoint,
    sessionCred,
    (s) => ctx.strategy.apply(s, credentialOf(ctx.base), credentialOf(pending)),
    { deadline: await fencedDeadline(ctx) },
  );
  ctx.deps.failpoint?.('db-applied');
  return {};
};

export class TestFailedError extends PermanentError {
  constructor(message: string) {
    super(message);
    this.name = 'TestFailedError';
  }
}

/** test: a real login with the pending credential and the configured query. */
const test: Step = async (ctx) => {
  const pending = await loadPending(ctx);
  const { testAttempts, testRetryDelayMs } = ctx.deps.settings;
  for (let i = 1; i <= testAttempts; i++) {
    const r = await ctx.engine.tryLogin(
      endpointOf(pending),
      credentialOf(pending),
      ctx.config.testQuery,
    );
    if (r.ok) {
      await proveParity(ctx, pending);
      return {};
    }
    // A replica or a pooler may lag behind the primary for a moment.
    if (i < testAttempts) await ctx.deps.clock.sleep(testRetryDelayMs);
  }
  throw new TestFailedError(`the pending credential of ${pending.username} was rejected after set`);
};

/**
 * A version's payload, or undefined when it cannot be read as one (destroyed, disabled, not a
 * database payload): a version someone else changed is not ours to adopt. Transient errors throw.
 */
export async function readPayloadIfReadable(
  store: SecretStore,
  secret: string,
  version: number,
): Promise<DatabasePayload | undefined> {
  return store
    .accessVersion(secret, version)
    .then((data) => parsePayload(data, `version ${version}`))
    .catch((err: unknown) => {
      if (isPermanent(err)) return undefined;
      throw err;
    });
}

/**
 * A managed version above `latestAtClaim` holding exactly the pending credential: added by a
 * promote that died before moving `current`. Nobody else knows that random password, so equality
 * proves it is ours. Searched only on a resumed rotation (a fresh one cannot have left any).
 */
export async function findManagedOrphans(
  ctx: RotationContext,
  pending: DatabasePayload,
): Promise<number[]> {
  if (!ctx.resumed) return [];
  const { store } = ctx.deps;
  const secret = ctx.snapshot.name;
  const out: number[] = [];
  const newer = (await store.listVersions(secret))
    .filter((v) => v.number > ctx.record.latestAtClaim && v.state === 'ENABLED')
    .sort((a, b) => a.number - b.number);
  for (const v of newer) {
    const payload = await readPayloadIfReadable(store, secret, v.number);
    if (payload && isCopyOf(payload, pending)) {
      out.push(v.number);
    } else {
      ctx.log.warning(
        'a version newer than current that this rotation did not add is not adopted',
        {
          event: 'rotation.foreign-version',
          version: v.number,
        },
      );
    }
  }
  return out;
}

/**
 * promote: the verified credential becomes the newest version of the managed secret, and one
 * compare-and-swap moves `current` to it and `previous` to the old one, records the rotation in
 * the history, the next rotation time, and hands the staged copy to retirement for destruction.
 * `current` only ever points at a version whose credential just passed a real login (the test
 * step), and `latest == current` except in the instant between the add and the alias move. A
 * redelivery after a kill in that instant adopts the added version instead of adding another.
 */
const promote: Step = async (ctx) => {
  const pending = await loadPending(ctx);
  const secret = ctx.snapshot.name;
  let version = (await findManagedOrphans(ctx, pending))[0];
  if (version === undefined) {
    version = await ctx.deps.store.addVersion(secret, JSON.stringify(pending));
    ctx.deps.failpoint?.('managed-added');
  } else {
    ctx.log.info('adopted the managed version a promote added before an interruption', {
      event: 'rotation.adopted',
      version,
    });
  }
  const now = ctx.deps.clock.now();
  const r = ctx.record;
  // A scheduled secret gets its next rotation time in this same write: no extra call.
  const nextRotationTime = nextRotationTimeToSet(ctx.snapshot, now);
  return {
    ...(nextRotationTime === undefined ? {} : { nextRotationTime }),
    ...(ctx.staged ? { destroyStaged: ctx.staged } : {}),
    record: { outcome: 'succeeded', resultVersion: version },
    aliases: {
      set: { [ALIASES.current]: version, [ALIASES.previous]: r.baseVersion },
      // Left by a rotation of an older release, which staged in the managed secret itself.
      remove: [ALIASES.pending],
    },
    promotedAt: now,
    currentCredential: { current: version, origin: version },
    history: {
      id: r.id,
      trigger: r.trigger,
      ...(r.requestedBy ? { requestedBy: r.requestedBy } : {}),
      outcome: 'succeeded',
      startedAt: r.startedAt,
      completedAt: now,
      fromVersion: r.baseVersion,
      toVersion: version,
      attempts: r.attempt,
    },
  };
};

/**
 * The rotation's duration is the same everywhere (history, log lines, this event): from the claim
 * (`startedAt`) to the outcome recorded in the history (`completedAt`), not to the announce.
 */
export function recordedCompletion(ctx: RotationContext, fallback: number): number {
  const entry = readHistory(ctx.snapshot.annotations).find((h) => h.id === ctx.record.id);
  return entry?.completedAt ?? fallback;
}

export function buildOutcome(ctx: RotationContext, completedAt: number): RotationOutcome {
  const r = ctx.record;
  return {
    schema: ROTATION_OUTCOME_SCHEMA,
    rotationId: r.id,
    secret: ctx.snapshot.name,
    outcome: r.outcome ?? 'failed',
    engine: ctx.config.engine,
    strategy: ctx.config.strategy,
    trigger: r.trigger,
    ...(r.requestedBy ? { requestedBy: r.requestedBy } : {}),
    previousVersion: String(r.baseVersion),
    ...(r.outcome === 'succeeded' && r.resultVersion !== undefined
      ? { newVersion: String(r.resultVersion) }
      : {}),
    startedAt: new Date(r.startedAt).toISOString(),
    completedAt: new Date(completedAt).toISOString(),
    durationMs: completedAt - r.startedAt,
    stepMs: r.stepMs,
    attempts: r.attempt,
    ...(r.error ? { error: r.error } : {}),
  };
}

/**
 * announce: publish the outcome (no values) on rotation-events. A failed publish throws, the
 * delivery is retried, and the rotation resumes right here.
 */
const announce: Step = async (ctx) => {
  const outcome = buildOutcome(ctx, recordedCompletion(ctx, ctx.deps.clock.now()));
  await ctx.deps.publish(
    ctx.deps.settings.rotationEventsTopic,
    JSON.stringify(outcome),
    outcomeAttributes(outcome),
  );
  ctx.deps.failpoint?.('published');
  return { status: ctx.record.outcome === 'succeeded' ? 'idle' : 'failed' };
};

export const STEP_IMPLS: Record<StepName, Step> = { create, set, test, promote, announce };

/** The steps whose change is written to the Secret; the others only update the record in memory. */
export const PERSISTED_STEPS: ReadonlySet<StepName> = new Set(['promote', 'announce']);
