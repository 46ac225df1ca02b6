import { OnDemandRequestBodySchema } from '../../shared/events/rotation-request';
import {
  RollbackNotAnnouncedError,
  RollbackRefusedError,
  type RollbackResult,
  rollBack,
} from '../../shared/rotation/rollback';
import type { SecretSnapshot } from '../../shared/secrets/secret-store';
import type { CommandContext } from '../context';
import { CliError, EXIT, type ExitCode, usageError } from '../exit-codes';
import { findSecret, managedConfig } from '../find-secret';
import { defaultRequester } from '../identity';
import { formatElapsed, formatTime, isoTime } from '../output';
import { displayName } from '../scope';

/** How long the rollback holds the secret: a login test and three writes fit well within it. */
export const ROLLBACK_LEASE_MS = 120_000;
const IDENTITY_TIMEOUT_MS = 5_000;
const ROTATION_EVENTS = 'rotation-events';
const SECRET_EVENTS = 'secret-events';
const TOPIC_NAME = /^projects\/[^/]+\/topics\/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/;

export interface RollbackOptions {
  reason: string;
  requestedBy?: string;
  /** The deployment's rotation-events topic (full name), when it cannot be derived. */
  topic?: string;
}

/**
 * The rotation-events topic refreshConsumers listens on. terraform names the pipeline's topics
 * `PREFIX-secret-events` and `PREFIX-rotation-events` (modules/gsm-rotator/locals.tf), and a
 * managed secret notifies PREFIX-secret-events, so the one is derived from the other.
 */
export function rotationEventsTopic(snapshot: SecretSnapshot, option?: string): string {
  if (option !== undefined) {
    if (!TOPIC_NAME.test(option)) {
      throw usageError(`--topic: not a full topic name (projects/P/topics/T): ${option}`);
    }
    return option;
  }
  const events = snapshot.topics.filter((t) => t.endsWith(SECRET_EVENTS));
  const [only] = events;
  if (only === undefined || events.length > 1) {
    throw usageError(
      `${snapshot.name} does not notify exactly one *${SECRET_EVENTS} topic: pass the deployment's rotation-events topic with --topic projects/P/topics/T`,
    );
  }
  return `${only.slice(0, -SECRET_EVENTS.length)}${ROTATION_EVENTS}`;
}

/**
 * `rollback SECRET --reason TEXT`: make `current` and `latest` the credential of `previous` again
 * (shared/rotation/rollback.ts), refresh the consumers, pause the schedule. Exit 5 when refused
 * (the previous credential no longer works), 4 when the secret is busy or the announcement failed.
 */
export async function runRollback(
  ctx: CommandContext,
  ref: string,
  options: RollbackOptions,
): Promise<ExitCode> {
  const { deps } = ctx;
  const requestedBy =
    options.requestedBy ??
    (await defaultRequester(deps.identity, deps.env, IDENTITY_TIMEOUT_MS)) ??
    'unknown';
  const fields = OnDemandRequestBodySchema.pick({ reason: true, requestedBy: true }).safeParse({
    reason: options.reason,
    requestedBy,
  });
  if (!fields.success || !options.reason.trim()) {
    const issue = fields.success ? undefined : fields.error.issues[0];
    const option = issue?.path[0] === 'requestedBy' ? '--requested-by' : '--reason';
    throw usageError(`${option}: ${issue?.message ?? 'say why'}`);
  }
  const snapshot = await findSecret(deps.store, ref, ctx.scope);
  managedConfig(snapshot);
  const topic = rotationEventsTopic(snapshot, options.topic);
  const name = displayName(snapshot.name, ctx.scope);
  let result: RollbackResult;
  let announced = true;
  try {
    result = await rollBack(
      {
        secret: snapshot.name,
        reason: options.reason,
        requestedBy,
        requestId: deps.newRequestId(),
      },
      {
        store: deps.store,
        engineFor: deps.engineFor,
        publish: deps.publish,
        clock: deps.clock,
        rotationEventsTopic: topic,
        leaseMs: ROLLBACK_LEASE_MS,
      },
    );
  } catch (err) {
    if (err instanceof RollbackRefusedError) {
      if (ctx.out.json) {
        ctx.out.document({
          secret: snapshot.name,
          rolledBack: false,
          refused: err.refusal,
          reason: err.message,
        });
      }
      throw new CliError(`rollback refused (${err.refusal}): ${err.message}`, EXIT.refused);
    }
    if (!(err instanceof RollbackNotAnnouncedError)) throw err;
    result = err.result;
    announced = false;
    ctx.out.note(`error: ${err.message}`);
  }

  if (ctx.out.json) {
    ctx.out.document({
      secret: result.secret,
      rolledBack: true,
      id: result.id,
      fromVersion: result.fromVersion,
      restoredVersion: result.restoredVersion,
      toVersion: result.toVersion,
      username: result.username,
      rolledBackUsername: result.rolledBackUsername,
      announced,
      topic,
      pause: { ...result.pause, at: isoTime(result.pause.at) },
      startedAt: isoTime(result.startedAt),
      completedAt: isoTime(result.completedAt),
      durationMs: result.completedAt - result.startedAt,
      retireNotBefore: isoTime(result.retireNotBefore),
    });
  } else {
    ctx.out.line(
      `${name}: rolled back in ${formatElapsed(result.completedAt - result.startedAt)} (${result.id})`,
    );
    ctx.out.line(
      `  current = latest = version ${result.toVersion}: the credential of version ${result.restoredVersion} (login ${result.username}), which logged in just now`,
    );
    ctx.out.line(
      `  previous = version ${result.fromVersion} (login ${result.rolledBackUsername}): the rolled-back credential, revoked by retirement after its grace period (not before ${formatTime(result.retireNotBefore)})`,
    );
    ctx.out.line(
      announced
        ? `  consumers: refresh announced on ${topic}`
        : '  consumers: NOT refreshed (see the error above)',
    );
    ctx.out.line(
      `  scheduled rotations paused (${result.pause.reason}); resume with: gsm-rotator resume ${name}`,
    );
  }
  return announced ? EXIT.ok : EXIT.transient;
}
