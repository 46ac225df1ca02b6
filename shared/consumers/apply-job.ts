import { PermanentError } from '../errors';
import { runNowToken } from './idempotency-token';
import type { Applied, TargetContext } from './target-context';
import type { JobTarget } from './targets';

/**
 * Continuous job: cancel the active run, Databricks starts a new one (under 60 s) that reads the
 * new credential. Triggered job with onRotate `restart`: run now with a token derived from the
 * rotation, then cancel the other active runs.
 *
 * run-now comes first on purpose: the token makes it return the same run on a redelivered event,
 * so "every active run except ours" is well defined and a redelivery never cancels the run the
 * first delivery started. The run is queued while the old run is still active (queueing is on),
 * and starts once the cancel lands.
 */
export async function applyJob(target: JobTarget, ctx: TargetContext): Promise<Applied> {
  const onRotate = target.onRotate ?? (target.mode === 'continuous' ? 'restart' : 'none');
  if (onRotate === 'none') {
    return { status: 'skipped', reason: 'onRotate is none: the next run reads the new value' };
  }
  const job = await ctx.client.getJob(target.jobId);
  const continuous = job.settings?.continuous;
  // Cancelling a triggered job configured as continuous would stop it for good: refuse.
  if (job.settings && (continuous !== undefined) !== (target.mode === 'continuous')) {
    throw new PermanentError(
      `job ${target.jobId} is ${continuous ? 'continuous' : 'triggered'} in Databricks, configured as ${target.mode}`,
    );
  }

  if (target.mode === 'continuous') {
    if (continuous?.pause_status === 'PAUSED') {
      return { status: 'skipped', reason: 'continuous job is paused' };
    }
    const active = await ctx.client.listActiveRuns(target.jobId);
    const running = active.filter((run) => run.state?.life_cycle_state !== 'TERMINATING');
    if (running.length === 0) return { status: 'skipped', reason: 'no active run to restart' };
    for (const run of running) await ctx.client.cancelRun(run.run_id);
    return {
      status: 'done',
      reason: `cancelled run ${running.map((r) => r.run_id).join(', ')}; Databricks starts a new one`,
    };
  }

  const { runId } = await ctx.client.runNow(
    target.jobId,
    runNowToken(ctx.rotationId, target.jobId),
  );
  const active = await ctx.client.listActiveRuns(target.jobId);
  const others = active.filter(
    (run) => run.run_id !== runId && run.state?.life_cycle_state !== 'TERMINATING',
  );
  for (const run of others) await ctx.client.cancelRun(run.run_id);
  return {
    status: 'done',
    reason: `run ${runId} for this rotation; cancelled ${others.length} other active run(s)`,
  };
}
