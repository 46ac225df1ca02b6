import type { Applied, TargetContext } from './target-context';
import type { ClusterTarget } from './targets';

/**
 * Spark conf and env `{{secrets/...}}` references resolve when a cluster starts, so a RUNNING
 * cluster is restarted; in any other state it picks the new value up at its next start.
 */
export async function applyCluster(target: ClusterTarget, ctx: TargetContext): Promise<Applied> {
  const cluster = await ctx.client.getCluster(target.clusterId);
  if (cluster.state !== 'RUNNING') {
    return { status: 'skipped', reason: `cluster is ${cluster.state}: not restarted` };
  }
  await ctx.client.restartCluster(target.clusterId);
  return { status: 'done', reason: 'restart requested' };
}
