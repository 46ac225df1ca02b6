import { TransientError } from '../../shared/errors';
import {
  ON_DEMAND_EVENT_TYPE,
  type OnDemandRequestBody,
  OnDemandRequestBodySchema,
} from '../../shared/events/rotation-request';
import { rotationIdFor } from '../../shared/rotation/rotator';
import { type HistoryEntry, readHistory, readState } from '../../shared/rotation/state';
import type { SecretSnapshot } from '../../shared/secrets/secret-store';
import type { CommandContext } from '../context';
import { CliError, EXIT, type ExitCode, usageError } from '../exit-codes';
import { findSecret, managedConfig } from '../find-secret';
import { defaultRequester } from '../identity';
import { formatElapsed } from '../output';
import { displayName, secretCandidates } from '../scope';
import { outcomeView } from './history';

export const DEFAULT_TOPIC = 'secret-events';

/** Reading the signed-in identity may need a token refresh; an operator should not wait longer. */
const IDENTITY_TIMEOUT_MS = 5_000;

export interface RotateOptions {
  reason?: string;
  requestedBy?: string;
  /** The leak runbook (docs/operations.md): no grace, previous revoked at once, sessions ended. */
  emergency?: boolean;
  wait: boolean;
  timeoutMs: number;
  topic?: string;
}

const TOPIC_ID = /^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/;
const TOPIC_NAME = /^projects\/[^/]+\/topics\/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/;

/** --topic: a short id lives in --project, else in the (named) secret's own project. */
function topicOption(option: string, secret: string, project: string | undefined): string {
  if (option.startsWith('projects/')) {
    if (!TOPIC_NAME.test(option)) throw usageError(`--topic: not a topic name: ${option}`);
    return option;
  }
  if (!TOPIC_ID.test(option)) throw usageError(`--topic: not a topic id: ${option}`);
  return `projects/${project ?? secret.split('/')[1]}/topics/${option}`;
}

/**
 * Without --topic: where the secret sends its own notifications. A managed secret notifies the
 * pipeline's secret-events topic (terraform names it `gsm-rotator-ENV-secret-events`), which is
 * exactly where rotateSecret listens; a secret without topics falls back to
 * `projects/P/topics/secret-events`.
 */
function defaultTopic(snapshot: SecretSnapshot, project: string | undefined): string {
  const [only, ...more] = snapshot.topics;
  if (only === undefined)
    return `projects/${project ?? snapshot.name.split('/')[1]}/topics/${DEFAULT_TOPIC}`;
  if (more.length === 0) return only;
  const events = snapshot.topics.filter((t) => t.endsWith(DEFAULT_TOPIC));
  if (events.length === 1 && events[0]) return events[0];
  throw usageError(
    `${snapshot.name} notifies several topics (${snapshot.topics.join(', ')}): pass --topic`,
  );
}

/**
 * `rotate SECRET`: publish an on-demand request (the same message `gcloud pubsub topics publish`
 * would send, see docs/operations.md) with a fresh request id, so the rotation id is known before
 * the function runs. `--wait` follows the secret's own records until that rotation has an outcome.
 */
export async function runRotate(
  ctx: CommandContext,
  ref: string,
  options: RotateOptions,
): Promise<ExitCode> {
  const { store, publish, newRequestId, env } = ctx.deps;
  // Every argument is checked before anything is read or published.
  const requestedBy =
    options.requestedBy ?? (await defaultRequester(ctx.deps.identity, env, IDENTITY_TIMEOUT_MS));
  const fields = OnDemandRequestBodySchema.pick({ reason: true, requestedBy: true }).safeParse({
    ...(options.reason === undefined ? {} : { reason: options.reason }),
    ...(requestedBy ? { requestedBy } : {}),
  });
  if (!fields.success) {
    const issue = fields.error.issues[0];
    const option = { reason: '--reason', requestedBy: '--requested-by' }[String(issue?.path[0])];
    throw usageError(`${option ?? 'request'}: ${issue?.message ?? 'invalid'}`);
  }
  if (options.emergency && !fields.data.reason) {
    throw usageError('--emergency: say why with --reason (it is recorded with the rotation)');
  }
  const [candidate] = secretCandidates(ref, ctx.scope);
  const chosenTopic =
    options.topic === undefined
      ? undefined
      : topicOption(options.topic, candidate ?? ref, ctx.scope.project);

  const snapshot = await findSecret(store, ref, ctx.scope);
  // Refuse what rotateSecret would reject, before publishing anything.
  managedConfig(snapshot);
  const requestId = newRequestId();
  const body: OnDemandRequestBody = OnDemandRequestBodySchema.parse({
    secret: snapshot.name,
    requestId,
    ...fields.data,
    ...(options.emergency ? { emergency: true } : {}),
  });
  const topic = chosenTopic ?? defaultTopic(snapshot, ctx.scope.project);
  const rotationId = rotationIdFor(snapshot.name, `on-demand:${requestId}`);
  const inFlight = readState(snapshot.annotations);
  if (inFlight.status === 'rotating' && inFlight.rotation) {
    ctx.out.note(
      `note: rotation ${inFlight.rotation.id} is in flight; this request runs after it finishes`,
    );
  }

  await withTimeout(
    publish(topic, JSON.stringify(body), {
      eventType: ON_DEMAND_EVENT_TYPE,
      secretId: snapshot.name,
    }),
    ctx.deps.publishTimeoutMs,
    `Pub/Sub did not accept the request within ${formatElapsed(ctx.deps.publishTimeoutMs)} (topic ${topic})`,
  );
  const publishedBy = ctx.deps.clock.now();
  const name = displayName(snapshot.name, ctx.scope);
  if (!ctx.out.json) {
    ctx.out.line(`rotation of ${name} requested`);
    ctx.out.line(`  request id:  ${requestId}`);
    ctx.out.line(`  rotation id: ${rotationId}`);
    ctx.out.line(`  topic:       ${topic}`);
  }
  const result = { secret: snapshot.name, topic, requestId, rotationId };
  if (!options.wait) {
    if (ctx.out.json) ctx.out.document({ ...result, outcome: null });
    else ctx.out.line(`follow it: gsm-rotator history ${name}  (or: rotate --wait)`);
    return EXIT.ok;
  }

  const entry = await follow(ctx, snapshot.name, rotationId, options.timeoutMs, publishedBy);
  if (entry === 'interrupted') {
    ctx.out.note(
      `\ninterrupted: stopped waiting, but rotation ${rotationId} continues in the pipeline.\n` +
        `follow it with: gsm-rotator history ${name}\n` +
        `or in Logs Explorer: labels.rotation_id="${rotationId}"`,
    );
    if (ctx.out.json) ctx.out.document({ ...result, outcome: null, interrupted: true });
    return EXIT.interrupted;
  }
  if (entry.id !== rotationId && !ctx.out.json) {
    ctx.out.note(
      `note: this request was answered by rotation ${entry.id}, which started after it was made (requests are merged: see docs/operations.md)`,
    );
  }
  if (ctx.out.json) {
    ctx.out.document({ ...result, outcome: outcomeView(entry) });
  } else {
    const versions = `version ${entry.fromVersion} → ${entry.toVersion ?? '-'}`;
    const took = formatElapsed(entry.completedAt - entry.startedAt);
    ctx.out.line(
      entry.outcome === 'succeeded'
        ? `rotation ${entry.id} succeeded: ${versions} in ${took}`
        : `rotation ${entry.id} FAILED after ${entry.attempts} attempt(s): ${entry.error ?? 'unknown error'}`,
    );
  }
  return entry.outcome === 'succeeded' ? EXIT.ok : EXIT.notOk;
}

/**
 * Poll the secret until its history records the rotation. The history entry is written when the
 * outcome is decided (promote, or the failure path), by the rotator itself: no subscription, and
 * no permission beyond reading the secret's metadata. Progress goes to stderr: each new step as a
 * line, and on a terminal a waiting line with the elapsed time, redrawn at every poll (a pipe or a
 * log file gets no control characters). Ctrl-C ends the wait, not the rotation.
 *
 * A merged request gets no rotation of its own: the rotator answers a request with any rotation
 * that started after the request was made. A rotation that started after `publishedBy` (this
 * machine's clock once Pub/Sub accepted the request, so after its publish time) therefore
 * answers it, and its outcome is this request's outcome.
 */
async function follow(
  ctx: CommandContext,
  secret: string,
  rotationId: string,
  timeoutMs: number,
  publishedBy: number,
): Promise<HistoryEntry | 'interrupted'> {
  const { store, clock, pollMs } = ctx.deps;
  const began = clock.now();
  const deadline = began + timeoutMs;
  let interrupted = false;
  let wake: () => void = () => {};
  const stopListening = ctx.deps.onInterrupt(() => {
    interrupted = true;
    wake();
  });
  const waiting = waitingLine(ctx);
  try {
    let seen = '';
    let lastError: string | undefined;
    for (;;) {
      try {
        const snapshot = await store.getSecret(secret);
        const history = readHistory(snapshot.annotations);
        const entry =
          history.find((h) => h.id === rotationId) ??
          history.find((h) => h.startedAt > publishedBy);
        if (entry) return entry;
        const state = readState(snapshot.annotations);
        const r = state.rotation;
        const deferred =
          state.deferred && rotationIdFor(secret, state.deferred.requestKey) === rotationId
            ? `deferred until the previous credential is retired (not before ${new Date(state.deferred.notBefore).toISOString()})`
            : '';
        const progress = r?.id === rotationId ? `step ${r.step}, attempt ${r.attempt}` : deferred;
        if (progress && progress !== seen) waiting.note(`  … ${progress}`);
        seen = progress || seen;
        lastError = undefined;
      } catch (err) {
        // One unreachable read does not end the wait; the timeout does.
        if (!(err instanceof TransientError)) throw err;
        lastError = err.message;
      }
      if (interrupted) return 'interrupted';
      waiting.draw(
        `  … waiting for ${seen ? seen : 'rotateSecret to start it'} · ${formatElapsed(clock.now() - began)} elapsed (Ctrl-C stops waiting, not the rotation)`,
      );
      const left = deadline - clock.now();
      if (left <= 0) {
        throw new CliError(
          `timed out after ${formatElapsed(timeoutMs)} waiting for rotation ${rotationId}` +
            `${seen ? ` (last seen: ${seen})` : ' (not started yet)'}` +
            `${lastError ? `; last error: ${lastError}` : ''}; it may still complete: see history`,
          EXIT.transient,
        );
      }
      await Promise.race([
        clock.sleep(Math.min(pollMs, left)),
        new Promise<void>((resolve) => {
          wake = resolve;
        }),
      ]);
      if (interrupted) return 'interrupted';
    }
  } finally {
    waiting.clear();
    stopListening();
  }
}

/** The redrawn waiting line of `--wait`: on a terminal only; notes are printed above it. */
function waitingLine(ctx: CommandContext) {
  const tty = ctx.deps.stderrIsTTY;
  let shown = false;
  const clear = () => {
    if (shown) ctx.deps.stderr('\r\x1b[2K');
    shown = false;
  };
  return {
    draw(text: string) {
      if (!tty) return;
      clear();
      ctx.deps.stderr(ctx.deps.redactor.scrub(text));
      shown = true;
    },
    note(text: string) {
      clear();
      ctx.out.note(text);
    },
    clear,
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  // The Pub/Sub client retries an unreachable endpoint for minutes; an operator should not wait.
  // A real timer, cleared once the publish settles: this bounds I/O, it is not rotation logic.
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TransientError(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
