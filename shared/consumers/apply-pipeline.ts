import { DatabricksError } from '../databricks/databricks-error';
import { PIPELINE_IDLE_STATES } from '../databricks/schemas';
import { PermanentError, TransientError } from '../errors';
import type { Applied, TargetContext } from './target-context';
import { type PipelineTarget, targetId } from './targets';

const isIdle = (state: string | undefined) =>
  (PIPELINE_IDLE_STATES as readonly string[]).includes(state ?? '');

/** Attempts at starting the update; each is preceded by a look at whether one already runs. */
const START_ATTEMPTS = 3;
const START_RETRY_DELAY_MS = 1_000;

/**
 * Restart a running pipeline: stop, wait until IDLE (bounded), start an update. Never a full
 * refresh: it would reset every table. A pipeline with no update running is skipped: its next
 * update reads the new value anyway.
 */
export async function applyPipeline(target: PipelineTarget, ctx: TargetContext): Promise<Applied> {
  const { client, clock, pipelineWait } = ctx;
  const id = target.pipelineId;
  const before = await client.getPipeline(id);
  if (before.state === 'DELETED') throw new PermanentError(`pipeline ${id} is deleted`);
  if (isIdle(before.state)) {
    // An earlier delivery may have stopped it and timed out waiting: finish its restart.
    const stoppedByUs =
      ctx.retried.has(targetId(target)) && before.latest_updates?.[0]?.state === 'CANCELED';
    if (stoppedByUs) return startUpdate(id, ctx);
    return { status: 'skipped', reason: `pipeline is ${before.state}: no update to restart` };
  }

  await client.stopPipeline(id);
  const deadline = clock.now() + pipelineWait.maxWaitMs;
  let state = before.state;
  while (!isIdle(state)) {
    if (clock.now() >= deadline) {
      throw new TransientError(
        `pipeline ${id} did not reach IDLE within ${pipelineWait.maxWaitMs} ms (still ${state})`,
      );
    }
    await clock.sleep(pipelineWait.pollMs);
    state = (await client.getPipeline(id)).state;
  }
  return startUpdate(id, ctx);
}

/**
 * Starting an update is not idempotent, so the client never repeats it. When an attempt got no
 * clear answer (429, 503, network), look before trying again: if an update runs now, it is ours
 * (or someone's started after the stop, which reads the new value just as well).
 */
async function startUpdate(id: string, ctx: TargetContext): Promise<Applied> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { updateId } = await ctx.client.startPipelineUpdate(id);
      return { status: 'done', reason: `stopped, then started update ${updateId}` };
    } catch (err) {
      if (!(err instanceof DatabricksError)) throw err;
      if (err.status === 409) {
        return { status: 'done', reason: 'stopped; an update was started meanwhile (409)' };
      }
      if (!err.retryable || attempt >= START_ATTEMPTS) throw err;
      await ctx.clock.sleep(Math.max(err.retryAfterMs ?? 0, START_RETRY_DELAY_MS));
      const now = await ctx.client.getPipeline(id);
      if (!isIdle(now.state)) {
        return { status: 'done', reason: `stopped; an update is running (${now.state})` };
      }
    }
  }
}
