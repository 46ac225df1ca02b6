import { invalidDoesNotExist } from './api-error';
import type { Timeline } from './timeline';

interface FakeCluster {
  id: string;
  name: string;
  state: string;
  restarts: number;
}

/**
 * All-purpose clusters: restart takes a RUNNING cluster through RESTARTING back to RUNNING. In
 * any other state restart does nothing and answers {} (the facts file: "does nothing unless the
 * cluster is RUNNING"). An unknown id is a 400 "does not exist", as clusters/get answers.
 */
export class FakeClusters {
  private readonly clusters = new Map<string, FakeCluster>();

  constructor(
    private readonly timeline: Timeline,
    private readonly timings: { clusterRestartMs: number },
  ) {}

  add(spec: { clusterId: string; name?: string; state?: 'RUNNING' | 'TERMINATED' | 'PENDING' }) {
    this.clusters.set(spec.clusterId, {
      id: spec.clusterId,
      name: spec.name ?? `cluster-${spec.clusterId}`,
      state: spec.state ?? 'RUNNING',
      restarts: 0,
    });
  }

  inspect(clusterId: string): { state: string; restarts: number } {
    this.timeline.advance();
    const c = this.cluster(clusterId);
    return { state: c.state, restarts: c.restarts };
  }

  get(query: URLSearchParams) {
    const c = this.cluster(query.get('cluster_id') ?? '');
    return { cluster_id: c.id, cluster_name: c.name, state: c.state };
  }

  restart(body: Record<string, unknown>) {
    const c = this.cluster(String(body.cluster_id));
    if (c.state !== 'RUNNING') return {};
    c.state = 'RESTARTING';
    c.restarts++;
    this.timeline.after(this.timings.clusterRestartMs, () => {
      if (c.state === 'RESTARTING') c.state = 'RUNNING';
    });
    return {};
  }

  private cluster(clusterId: string): FakeCluster {
    const c = this.clusters.get(clusterId);
    if (!c) throw invalidDoesNotExist(`Cluster ${clusterId}`);
    return c;
  }
}
