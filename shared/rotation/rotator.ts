import { createHash } from 'node:crypto';
import { ALIASES, CONFIG_KEYS } from '../config/annotations';
import {
  DEFAULT_MIN_GRACE_MS,
  formatConfigIssues,
  type RotationConfig,
  RotationConfigSchema,
  withGraceFloor,
} from '../config/rotation-config';
import type { Credential } from '../engines/engine';
import {
  ConflictError,
  describeError,
  isPermanent,
  PermanentError,
  ReportedTransientError,
  RetryLaterError,
  ThrottledError,
  TransientError,
} from '../errors';
import type { RotationRequest } from '../events/rotation-request';
import { previousHold } from '../retirement/plan';
import { consumerIdsOf } from '../retirement/retire-secret';
import { SettingsError } from '../runtime/settings';
import { deferScheduledRotation } from '../schedule/defer';
import { scheduleGate } from '../schedule/gate';
import type { DatabasePayload } from '../secrets/payload';
import type { SecretSnapshot } from '../secrets/secret-store';
import { assertInScope } from '../trust/scope';
import { adminCredential, rotationLogins } from './admin';
import type { RotationContext, RotatorDeps } from './context';
import { type Decision, decide } from './decide';
import { failRotation } from './failure';
import { deferRequest, retireFirst, revokeAfterEmergency } from './grace';
import { generatePassword } from './password';
import { persist, updateOrConfirm } from './persist';
import { passwordDigest } from './provenance';
import {
  type RotationRecord,
  type RotationState,
  readState,
  STEPS,
  withServed,
  withState,
} from './state';
import { PERSISTED_STEPS, parsePayload, recordedCompletion, STEP_IMPLS } from './steps';
import { STRATEGY_IMPLS } from './strategies';

export type RotationResult =
  | { action: 'stale' }
  /**
   * Not now: recorded on the Secret to run once the grace window of `previous` allows (`until`,
   * epoch ms), or a scheduled notification held back by a pause or its closed window
   * (shared/schedule/gate; no `until`).
   */
  | { action: 'deferred'; until?: number }
  | { action: 'completed' | 'failed'; rotationId: string; version?: number };

/**
 * Read and validate a managed secret's config; a secret without it is not ours to rotate.
 * `defaults` fill annotations the secret does not set (the deployment's ROTATOR_MAX_ATTEMPTS).
 */
export function readConfig(
  snapshot: SecretSnapshot,
  defaults: { maxAttempts?: number; minGracePeriodMs?: number } = {},
): RotationConfig {
  if (snapshot.annotations[CONFIG_KEYS.engine] === undefined) {
    throw new PermanentError(
      `secret ${snapshot.name} is not managed by gsm-rotator (no ${CONFIG_KEYS.engine})`,
    );
  }
  const parsed = RotationConfigSchema.safeParse({
    ...(defaults.maxAttempts === undefined
      ? {}
      : { [CONFIG_KEYS.maxAttempts]: String(defaults.maxAttempts) }),
    ...snapshot.annotations,
  });
  if (!parsed.success) {
    throw new PermanentError(
      `secret ${snapshot.name} has an invalid rotation config: ${formatConfigIssues(parsed.error)}`,
    );
  }
  return withGraceFloor(parsed.data, defaults.minGracePeriodMs ?? DEFAULT_MIN_GRACE_MS);
}

/** Duplicates of one request get one rotation id, so downstream idempotency keys line up. */
export function rotationIdFor(secret: string, requestKey: string): string {
  return `rot-${createHash('sha256').update(`${secret}\n${requestKey}`).digest('hex').slice(0, 20)}`;
}

const MAX_CLAIM_ROUNDS = 5;
/** Digests kept per rotation: one per claim before its version was added; attempts are bounded. */
const MAX_DIGESTS = 20;

/** An expected wait that says what holds the secret (a rotation or a retirement) and until when. */
function busyError(state: RotationState, leaseUntil: number): RetryLaterError {
  const until = new Date(leaseUntil).toISOString();
  if (state.status === 'rotating' && state.rotation) {
    const r = state.rotation;
    return new RetryLaterError(
      `rotation ${r.id} (step ${r.step}) holds the secret until ${until}; retry later`,
      { context: { holder: 'rotation', rotationId: r.id, step: r.step, leaseUntil: until } },
    );
  }
  return new RetryLaterError(
    `the retirement of version ${state.retiring?.version} holds the secret until ${until}; retry later`,
    { context: { holder: 'retirement', version: state.retiring?.version, leaseUntil: until } },
  );
}

/**
 * Handle one delivery of a rotation request: decide from the Secret's state, claim (or take over)
 * the rotation with a compare-and-swap, and drive the steps. At most one rotation is in flight per
 * secret: a losing concurrent delivery decides again and finds it busy (retry later) or stale.
 */
export async function handleRotationRequest(
  request: RotationRequest,
  deps: RotatorDeps,
): Promise<RotationResult> {
  const log = deps.logger.child({ secret: request.secret });
  if (deps.settings.stagingSecrets.length === 0) {
    throw new SettingsError(
      'ROTATOR_STAGING_SECRET is not set: rotateSecret has nowhere to stage a pending credential',
      ['ROTATOR_STAGING_SECRET'],
    );
  }
  for (let round = 1; round <= MAX_CLAIM_ROUNDS; round++) {
    const snapshot = await deps.store.getSecret(request.secret);
    assertInScope(snapshot, deps.settings.scope);
    const config = readConfig(snapshot, {
      maxAttempts: deps.settings.maxAttempts,
      minGracePeriodMs: deps.settings.minGracePeriodMs,
    });
    const state = readState(snapshot.annotations);
    const now = deps.clock.now();
    const ownId = rotationIdFor(snapshot.name, request.requestKey);
    const hold = previousHold(
      snapshot,
      config,
      consumerIdsOf(config),
      now,
      STRATEGY_IMPLS[config.strategy].keepsPrevious &&
        snapshot.aliases[ALIASES.previous] !== undefined,
    );
    const decision = decide(state, request, now, config.maxAttempts, hold, ownId);
    // A request key that was already served (a client that re-published its request, Secret
    // Manager retrying its notification): the same request, whatever its publish time. Only the
    // unfinished revoke of an emergency rotation still has work for it.
    if (
      decision.action !== 'emergency-revoke' &&
      state.status !== 'rotating' &&
      state.served?.some((s) => s.id === ownId)
    ) {
      log.info('request was already served: duplicate', {
        event: 'rotation.duplicate',
        requestKey: request.requestKey,
        rotationId: ownId,
        trigger: request.trigger,
      });
      return { action: 'stale' };
    }

    if (
      decision.action === 'start' ||
      decision.action === 'wait' ||
      decision.action === 'retire-first'
    ) {
      // Pause and rotation window, from the snapshot just read (no extra call); never gates a
      // rotation already in flight. Before the grace rule: a paused secret records no deferral.
      const gate = scheduleGate(snapshot, request, now);
      if (gate.action === 'defer') {
        await deferScheduledRotation(gate, snapshot, request, deps);
        return { action: 'deferred' };
      }
    }
    if (decision.action === 'wait') {
      await deferRequest(snapshot, state, request, decision.until, decision.why, deps, log);
      return { action: 'deferred', until: decision.until };
    }
    if (decision.action === 'retire-first') {
      await retireFirst(snapshot, config, deps, log);
      continue;
    }
    if (decision.action === 'emergency-revoke') {
      await revokeAfterEmergency(snapshot.name, config, deps, log.child({ rotation_id: ownId }));
      return { action: 'stale' };
    }
    if (decision.action === 'stale') {
      const last = state.rotation;
      if (last && last.id !== ownId) {
        // A rotation that started after this request was made answers it: say which.
        log.info('request answered by a rotation that started after it was made', {
          event: 'rotation.merged',
          requestKey: request.requestKey,
          trigger: request.trigger,
          satisfiedBy: last.id,
          ...(last.outcome ? { outcome: last.outcome } : {}),
        });
      } else {
        log.info('request already served by its own rotation: nothing to do', {
          event: 'rotation.stale',
          requestKey: request.requestKey,
          trigger: request.trigger,
          rotation_id: ownId,
        });
      }
      return { action: 'stale' };
    }
    if (decision.action === 'busy') throw busyError(state, decision.leaseUntil);
    let ctx: RotationContext;
    try {
      ctx = await claim(decision, snapshot, state, config, request, deps);
    } catch (err) {
      if (err instanceof ConflictError) continue;
      throw err;
    }
    const result = await drive(ctx, decision);
    if (ctx.record.emergency && result.action === 'completed') {
      await revokeAfterEmergency(snapshot.name, config, deps, ctx.log);
    }
    // Someone else's rotation, taken over from a dead worker, that started before this request
    // was made does not answer it: decide again (a new rotation starts), exactly as when this
    // request had found that rotation busy and come back after it completed. Only then: a
    // rotation this request started (or its own, resumed) answers it, whatever its timestamp.
    const tookOverAnother =
      (decision.action === 'takeover' || decision.action === 'exhausted') &&
      ctx.record.id !== ownId;
    if (tookOverAnother && request.requestedAt > ctx.record.startedAt) continue;
    return result;
  }
  throw new TransientError('could not finish the rotation: the secret kept changing');
}

async function claim(
  decision: Decision,
  snapshot: SecretSnapshot,
  state: RotationState,
  config: RotationConfig,
  request: RotationRequest,
  deps: RotatorDeps,
): Promise<RotationContext> {
  const now = deps.clock.now();
  const holder = deps.newHolderId();
  const leaseUntil = now + deps.settings.leaseMs;
  let record: RotationRecord;
  let lastStartedAt = state.lastStartedAt;
  let served = state.served;
  // Read once per delivery and handed to the steps (set, parity, rollback): Secret Manager calls
  // are quota. The binding was checked for exactly the logins this rotation changes.
  let admin: Credential | undefined;
  let base: DatabasePayload | undefined;

  if (decision.action === 'start' || decision.action === 'resume-unresolved') {
    const previousRun = decision.action === 'resume-unresolved' ? state.rotation : undefined;
    const current = snapshot.aliases[ALIASES.current];
    // Listing costs a read: only a secret that never had a `current` (its first rotation, not
    // adopted) needs it, to find its newest enabled version.
    const versions =
      previousRun?.baseVersion === undefined && current === undefined
        ? await deps.store.listVersions(snapshot.name)
        : undefined;
    const baseVersion =
      previousRun?.baseVersion ?? current ?? versions?.find((v) => v.state === 'ENABLED')?.number;
    if (baseVersion === undefined) {
      throw new PermanentError(`secret ${snapshot.name} has no enabled version to rotate from`);
    }
    base = parsePayload(
      await deps.store.accessVersion(snapshot.name, baseVersion),
      `version ${baseVersion}`,
    );
    // Pre-flight, before anything changes: the admin secret must be readable, serve this secret
    // and every login the rotation changes, and name the same server, so a misconfiguration or
    // an untrusted request costs one log line instead of a half-done rotation.
    if (config.adminSecret !== 'self') {
      admin = await adminCredential(deps.store, config.adminSecret, base, {
        secret: snapshot.name,
        engine: config.engine,
        logins: rotationLogins(config, base.username, deps.engineFor(config.engine)),
      });
    }
    record = {
      id: rotationIdFor(snapshot.name, request.requestKey),
      trigger: request.trigger,
      ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
      ...(request.reason ? { reason: request.reason } : {}),
      ...(request.emergency ? { emergency: true } : {}),
      requestedAt: request.requestedAt,
      startedAt: now,
      attempt: 1,
      leaseUntil,
      holder,
      step: 'create',
      baseVersion,
      baseUsername: base.username,
      // A lower bound is enough: a managed orphan is recognised by its payload, not its number.
      latestAtClaim: previousRun?.latestAtClaim ?? versions?.[0]?.number ?? baseVersion,
      // An unresolved rotation's staged credential may be live in the database: resumed, as is.
      ...(previousRun?.staged === undefined
        ? {}
        : {
            staged: previousRun.staged,
            ...(previousRun.pendingUsername === undefined
              ? {}
              : { pendingUsername: previousRun.pendingUsername }),
          }),
      stepMs: {},
    };
    lastStartedAt = now;
    served = withServed(state.served, record.id, now);
  } else {
    const { throttled, ...previous } = state.rotation as RotationRecord;
    record = {
      ...previous,
      // Attempts count real failures only: a worker that handed the rotation back for quota
      // (ThrottledError) used none.
      attempt:
        decision.action === 'takeover' && !throttled ? previous.attempt + 1 : previous.attempt,
      leaseUntil,
      holder,
    };
  }

  const { deferred, ...rest } = state;
  const starts = decision.action === 'start' || decision.action === 'resume-unresolved';
  if (starts && deferred) {
    // A waiting request is answered by this rotation, which starts after it was made.
    deps.logger.info('deferred request answered by a new rotation', {
      event: 'rotation.merged',
      secret: snapshot.name,
      requestKey: deferred.requestKey,
      satisfiedBy: record.id,
    });
  }
  // The password create will stage is generated now, and its digest written with the claim: a
  // staged version is adopted later only if it carries one of these (provenance.ts).
  let generatedPassword: string | undefined;
  if (record.staged === undefined) {
    generatedPassword = generatePassword(config.engine, config.passwordPolicy, deps.randomBytes);
    deps.redactor.add(generatedPassword);
    record = {
      ...record,
      pendingDigests: [
        ...(record.pendingDigests ?? []),
        passwordDigest(record.id, generatedPassword),
      ].slice(-MAX_DIGESTS),
    };
  }
  const next: RotationState = {
    ...(starts ? rest : state),
    status: 'rotating',
    rotation: record,
    ...(lastStartedAt === undefined ? {} : { lastStartedAt }),
    ...(served === undefined ? {} : { served }),
  };
  const claimed = await updateOrConfirm(deps.store, snapshot, {
    annotations: withState(snapshot.annotations, next),
  });
  // A new rotation read its base version for the pre-flight; a resumed one reads it now.
  base ??= parsePayload(
    await deps.store.accessVersion(snapshot.name, record.baseVersion),
    `version ${record.baseVersion}`,
  );
  deps.failpoint?.('claimed');
  const log = deps.logger.child({ secret: snapshot.name, rotation_id: record.id });
  log.info(
    decision.action === 'start' ? 'rotation started' : `rotation resumed (${decision.action})`,
    {
      event: 'rotation.claimed',
      trigger: record.trigger,
      attempt: record.attempt,
      step: record.step,
      baseVersion: record.baseVersion,
      ...(record.reason ? { reason: record.reason } : {}),
    },
  );
  return {
    deps,
    request,
    config,
    engine: deps.engineFor(config.engine),
    strategy: STRATEGY_IMPLS[config.strategy],
    log,
    snapshot: claimed,
    record,
    base,
    resumed: decision.action !== 'start',
    ...(generatedPassword === undefined ? {} : { generatedPassword }),
    ...(admin === undefined ? {} : { adminCredential: admin }),
  };
}

/**
 * The step skeleton, written once: run each remaining step, time and log it. Only the steps in
 * PERSISTED_STEPS write their change (with the move to the next step) to the Secret; the others
 * advance the record in memory, and the next write carries it (a kill in between resumes at the
 * last persisted step, and every step is safe to run again).
 */
async function runSteps(ctx: RotationContext): Promise<void> {
  const { clock } = ctx.deps;
  for (let i = STEPS.indexOf(ctx.record.step); i < STEPS.length; i++) {
    const step = STEPS[i] as (typeof STEPS)[number];
    const started = clock.now();
    const change = await STEP_IMPLS[step](ctx);
    const durationMs = clock.now() - started;
    const record = {
      ...change.record,
      step: STEPS[i + 1] ?? step,
      stepMs: { ...ctx.record.stepMs, [step]: durationMs },
    };
    if (PERSISTED_STEPS.has(step)) {
      await persist(ctx, { ...change, record });
    } else {
      ctx.record = { ...ctx.record, ...record };
    }
    ctx.deps.failpoint?.(`step:${step}`);
    ctx.log.info(`rotation step ${step} done`, {
      event: 'rotation.step',
      step,
      durationMs,
      attempt: ctx.record.attempt,
      ...(ctx.staged === undefined ? {} : { stagedVersion: ctx.staged.version }),
    });
  }
}

async function drive(ctx: RotationContext, decision: Decision): Promise<RotationResult> {
  try {
    if (decision.action === 'exhausted' && ctx.record.step === 'announce') {
      // The rotation itself is finished; only its announcement kept failing. Do not undo it.
      ctx.log.error('rotation outcome could not be announced', {
        event: 'rotation.announce-failed',
        attempts: ctx.record.attempt,
        error: ctx.record.error,
      });
      await persist(ctx, { status: ctx.record.outcome === 'succeeded' ? 'idle' : 'failed' });
    } else {
      if (decision.action === 'exhausted') {
        await failRotation(
          ctx,
          `gave up after ${ctx.record.attempt} attempts: ${ctx.record.error ?? 'no progress'}`,
        );
      } else if (ctx.record.outcome === 'failed' && ctx.record.step !== 'announce') {
        await failRotation(ctx, ctx.record.error ?? 'failed');
      }
      try {
        await runSteps(ctx);
      } catch (err) {
        if (!isPermanent(err) || ctx.record.step === 'announce') throw err;
        await failRotation(ctx, describeError(err).message);
        await runSteps(ctx);
      }
    }
  } catch (err) {
    if (err instanceof ConflictError) throw err;
    if (err instanceof ThrottledError) {
      // Quota, not failure: give the lease up marked `throttled`, so the redelivery resumes at
      // once without counting an attempt. The boundary logs the wait (INFO). If even this write
      // is refused, the lease runs out and the takeover counts one attempt: the rare worst case.
      await persist(ctx, { record: { throttled: true }, releaseLease: true }).catch(
        () => undefined,
      );
      throw err;
    }
    const error = describeError(err);
    ctx.log.warning('rotation interrupted: will resume on redelivery', {
      event: 'rotation.retry',
      step: ctx.record.step,
      attempt: ctx.record.attempt,
      maxAttempts: ctx.config.maxAttempts,
      error,
    });
    // Record why and give the lease up, so the redelivery resumes at once (best effort: if the
    // Secret Manager itself is down, the lease simply expires).
    await persist(ctx, { record: { error: error.message }, releaseLease: true }).catch(
      () => undefined,
    );
    // The line above is this attempt's story: the boundary redelivers without a second one.
    throw new ReportedTransientError(error.message, { cause: err });
  }

  const r = ctx.record;
  const fields = {
    outcome: r.outcome,
    trigger: r.trigger,
    fromVersion: r.baseVersion,
    toVersion: r.resultVersion,
    attempts: r.attempt,
    durationMs: recordedCompletion(ctx, ctx.deps.clock.now()) - r.startedAt,
    stepMs: r.stepMs,
  };
  if (r.outcome === 'succeeded') {
    ctx.log.notice('rotation completed', { event: 'rotation.completed', ...fields });
    return {
      action: 'completed',
      rotationId: r.id,
      ...(r.resultVersion ? { version: r.resultVersion } : {}),
    };
  }
  // One ERROR per failed rotation: unresolved (pending kept for the next request) or failed.
  ctx.log.error(
    r.unresolved
      ? 'rotation unresolved: the database could not be reached to roll back; staged credential kept for the next rotation'
      : 'rotation failed',
    {
      event: r.unresolved ? 'rotation.unresolved' : 'rotation.failed',
      ...fields,
      error: r.error,
      unresolved: r.unresolved ?? false,
      ...(r.unresolved && r.staged !== undefined ? { stagedVersion: r.staged.version } : {}),
    },
  );
  return { action: 'failed', rotationId: r.id };
}
