import { type Pause, PauseSchema, readPause, withPause } from '../../shared/schedule/pause';
import { updateWithRetry } from '../../shared/secrets/update-with-retry';
import type { CommandContext } from '../context';
import { EXIT, type ExitCode, usageError } from '../exit-codes';
import { findSecret, managedConfig } from '../find-secret';
import { formatTime } from '../output';
import { displayName } from '../scope';

export interface PauseOptions {
  reason: string;
  /** Who pauses (default $USER): recorded and shown, a claim and not an authority. */
  by?: string;
}

const describePause = (p: Pause) => `paused by ${p.by} at ${formatTime(p.at)}: ${p.reason}`;

/**
 * `pause SECRET --reason TEXT`: stop scheduled rotations of one secret until `resume`. Writes the
 * `rotator.pause` annotation with the Secret's etag (a concurrent writer makes it re-read and
 * retry). On-demand and emergency rotations still work. Pausing a paused secret changes nothing.
 */
export async function runPause(
  ctx: CommandContext,
  ref: string,
  options: PauseOptions,
): Promise<ExitCode> {
  const { store, clock, env } = ctx.deps;
  const fields = PauseSchema.pick({ by: true, reason: true }).safeParse({
    by: options.by ?? env.USER ?? env.USERNAME ?? 'unknown',
    reason: options.reason,
  });
  if (!fields.success) {
    const issue = fields.error.issues[0];
    const option = { by: '--by', reason: '--reason' }[String(issue?.path[0])];
    throw usageError(`${option ?? 'pause'}: ${issue?.message ?? 'invalid'}`);
  }
  const snapshot = await findSecret(store, ref, ctx.scope);
  managedConfig(snapshot);
  let pause: Pause = { ...fields.data, at: clock.now() };
  let changed = false;
  await updateWithRetry(
    store,
    snapshot.name,
    (fresh) => {
      const existing = readPause(fresh.annotations);
      if (existing) {
        pause = existing;
        changed = false;
        return undefined;
      }
      changed = true;
      return { annotations: withPause(fresh.annotations, pause) };
    },
    snapshot,
  );
  report(ctx, snapshot.name, pause, changed, changed ? 'paused' : 'already');
  return EXIT.ok;
}

/** `resume SECRET`: scheduled rotations go on from the next scheduled time. */
export async function runResume(ctx: CommandContext, ref: string): Promise<ExitCode> {
  const { store } = ctx.deps;
  const snapshot = await findSecret(store, ref, ctx.scope);
  managedConfig(snapshot);
  let was: Pause | undefined;
  await updateWithRetry(
    store,
    snapshot.name,
    (fresh) => {
      was = readPause(fresh.annotations);
      return was ? { annotations: withPause(fresh.annotations, undefined) } : undefined;
    },
    snapshot,
  );
  const name = displayName(snapshot.name, ctx.scope);
  if (ctx.out.json) {
    ctx.out.document({
      secret: snapshot.name,
      paused: null,
      changed: was !== undefined,
      was: was ?? null,
    });
  } else {
    ctx.out.line(
      was
        ? `${name}: resumed (was ${describePause(was)}); scheduled rotations go on`
        : `${name}: was not paused; nothing changed`,
    );
  }
  return EXIT.ok;
}

function report(
  ctx: CommandContext,
  secret: string,
  pause: Pause,
  changed: boolean,
  kind: 'paused' | 'already',
): void {
  if (ctx.out.json) {
    ctx.out.document({ secret, paused: pause, changed });
    return;
  }
  const name = displayName(secret, ctx.scope);
  ctx.out.line(
    kind === 'paused'
      ? `${name}: ${describePause(pause)}; scheduled rotations are acknowledged and skipped until resume (on-demand and emergency rotations still run)`
      : `${name}: already ${describePause(pause)}; nothing changed`,
  );
}
