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
import { formatIssues } from '../zod-issues';
import { adminCredentialFor } from './admin';
import { fencedDeadline, persist, type RotationContext, type StateChange } from './context';
import { proveParity } from './parity';
import { generatePassword } from './password';
import { isOwnPending, passwordDigest } from './provenance';
import { readHistory, type StepName } from './state';

/**
 * The five steps. Each first checks whether its work is already done (a redelivery after a crash
 * lands in the middle of any of them) and returns the state change that records it; the skeleton
 * in rotator.ts persists that change together with the move to the next step (compare-and-swap),
 * times and logs it.
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

/** The pending version's payload, read by number (strongly consistent) and cached. */
export async function loadPending(ctx: RotationContext): Promise<DatabasePayload> {
  if (ctx.pending) return ctx.pending;
  const version = ctx.record.pendingVersion;
  if (version === undefined) throw new Error('no pending version recorded');
  ctx.pending = parsePayload(
    await ctx.deps.store.accessVersion(ctx.snapshot.name, version),
    `pending version ${version}`,
  );
  return ctx.pending;
}

/**
 * create: decide the new credential and store it as a version BEFORE the database knows it, so a
 * crash can never lose a password the database accepts. AddSecretVersion has no etag and is not
 * idempotent: a version newer than the one seen at claim time that proves it came from this
 * rotation (provenance.ts: a password whose digest the claim recorded) is an orphan of a crash
 * between add and persist, and is adopted instead of adding another. Any other new version (an
 * operator's `gcloud secrets versions add`) is left alone: never pending, never current.
 */
const create: Step = async (ctx) => {
  const { store, randomBytes, redactor } = ctx.deps;
  const secret = ctx.snapshot.name;
  if (ctx.record.pendingVersion !== undefined) return {};

  const username = ctx.strategy.pendingUsername(ctx.base.username, ctx.config, ctx.engine);
  const newer = (await store.listVersions(secret))
    .filter((v) => v.number > ctx.record.latestAtClaim && v.state === 'ENABLED')
    .sort((a, b) => a.number - b.number);
  let adopted: { version: number; payload: DatabasePayload } | undefined;
  for (const v of newer) {
    let payload: DatabasePayload | undefined;
    try {
      payload = parsePayload(await store.accessVersion(secret, v.number), `version ${v.number}`);
    } catch (err) {
      if (!isPermanent(err)) throw err;
    }
    const own =
      payload !== undefined &&
      isOwnPending(payload, {
        rotationId: ctx.record.id,
        digests: ctx.record.pendingDigests ?? [],
        username,
        base: ctx.base,
      });
    if (!own) {
      ctx.log.warning('a version added by someone else during the rotation is not adopted', {
        event: 'rotation.foreign-version',
        version: v.number,
      });
    } else if (adopted && payload) {
      // Only a second add racing the first could leave these; they never reached the database.
      await store.disableVersion(secret, v.number, v.etag);
      ctx.log.warning('disabled duplicate pending version', { version: v.number });
    } else if (payload) {
      adopted = { version: v.number, payload };
    }
  }
  let version: number;
  if (adopted) {
    version = adopted.version;
    ctx.pending = adopted.payload;
    ctx.log.info('adopted pending version added before an interruption', { version });
  } else {
    let password = ctx.generatedPassword;
    if (password === undefined) {
      // Not generated at the claim (cannot happen through claim()): record its digest first.
      password = generatePassword(ctx.config.engine, ctx.config.passwordPolicy, randomBytes);
      await persist(ctx, {
        record: {
          pendingDigests: [
            ...(ctx.record.pendingDigests ?? []),
            passwordDigest(ctx.record.id, password),
          ],
        },
      });
    }
    redactor.add(password);
    ctx.pending = { ...ctx.base, username, password };
    version = await store.addVersion(secret, JSON.stringify(ctx.pending));
    ctx.deps.failpoint?.('version-added');
  }
  const previous = ctx.snapshot.aliases[ALIASES.previous];
  if (ctx.strategy.keepsPrevious && previous !== undefined && previous !== ctx.record.baseVersion) {
    ctx.log.warning('rotating before the previous version was retired: it stops working now', {
      previousVersion: previous,
    });
  }
  return {
    record: { pendingVersion: version, pendingUsername: ctx.pending.username },
    aliases: { set: { [ALIASES.pending]: version } },
  };
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
 * promote: one compare-and-swap moves `current` to the new version and `previous` to the old one,
 * drops `pending` and records the rotation in the history. `current` only ever points at a
 * version whose credential just passed a real login (the test step).
 */
const promote: Step = async (ctx) => {
  const now = ctx.deps.clock.now();
  const version = ctx.record.pendingVersion as number;
  const r = ctx.record;
  // A scheduled secret gets its next rotation time in this same write: no extra call.
  const nextRotationTime = nextRotationTimeToSet(ctx.snapshot, now);
  return {
    ...(nextRotationTime === undefined ? {} : { nextRotationTime }),
    record: { outcome: 'succeeded', resultVersion: version },
    aliases: {
      set: { [ALIASES.current]: version, [ALIASES.previous]: r.baseVersion },
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
