import { ApiError, notFound } from './api-error';
import type { Timeline } from './timeline';

export interface FakeUpdate {
  update_id: string;
  state: string;
  creation_time: string;
  full_refresh: boolean;
}

export interface FakePipelineSpec {
  pipelineId: string;
  name?: string;
  /** RUNNING (the default) has an active update; IDLE has none. */
  state?: 'RUNNING' | 'IDLE' | 'FAILED';
  /** How long STOPPING lasts; the fake-wide default otherwise. */
  stopDelayMs?: number;
}

interface FakePipeline {
  id: string;
  name: string;
  state: string;
  stopDelayMs: number;
  updates: FakeUpdate[];
}

/**
 * Pipelines: stop takes a RUNNING pipeline through STOPPING to IDLE after a delay (a no-op when
 * idle); starting an update while one is active answers 409; a started update goes STARTING →
 * RUNNING. Every update remembers whether it was a full refresh.
 */
export class FakePipelines {
  private readonly pipelines = new Map<string, FakePipeline>();
  private nextUpdate = 1;

  constructor(
    private readonly timeline: Timeline,
    private readonly timings: { pipelineStopMs: number; pipelineStartMs: number },
  ) {}

  add(spec: FakePipelineSpec): void {
    const pipeline: FakePipeline = {
      id: spec.pipelineId,
      name: spec.name ?? `pipeline-${spec.pipelineId}`,
      state: spec.state ?? 'RUNNING',
      stopDelayMs: spec.stopDelayMs ?? this.timings.pipelineStopMs,
      updates: [],
    };
    if (pipeline.state === 'RUNNING') pipeline.updates.unshift(this.update('RUNNING', false));
    this.pipelines.set(spec.pipelineId, pipeline);
  }

  /** State and updates (newest first), for assertions. */
  inspect(pipelineId: string): { state: string; updates: FakeUpdate[] } {
    this.timeline.advance();
    const p = this.pipeline(pipelineId);
    return { state: p.state, updates: p.updates.map((u) => ({ ...u })) };
  }

  get(pipelineId: string) {
    const p = this.pipeline(pipelineId);
    return {
      pipeline_id: p.id,
      name: p.name,
      state: p.state,
      latest_updates: p.updates.slice(0, 5).map((u) => ({
        update_id: u.update_id,
        state: u.state,
        creation_time: u.creation_time,
      })),
    };
  }

  stop(pipelineId: string) {
    const p = this.pipeline(pipelineId);
    if (p.state === 'IDLE' || p.state === 'FAILED' || p.state === 'STOPPING') return {};
    p.state = 'STOPPING';
    this.timeline.after(p.stopDelayMs, () => {
      p.state = 'IDLE';
      const active = p.updates[0];
      if (active && active.state !== 'COMPLETED') active.state = 'CANCELED';
    });
    return {};
  }

  startUpdate(pipelineId: string, body: Record<string, unknown>) {
    const p = this.pipeline(pipelineId);
    if (p.state !== 'IDLE' && p.state !== 'FAILED') {
      throw new ApiError(409, 'RESOURCE_CONFLICT', `An active update exists for ${pipelineId}.`);
    }
    const update = this.update('INITIALIZING', body.full_refresh === true);
    p.updates.unshift(update);
    p.state = 'STARTING';
    this.timeline.after(this.timings.pipelineStartMs, () => {
      if (p.state !== 'STARTING') return;
      p.state = 'RUNNING';
      update.state = 'RUNNING';
    });
    return { update_id: update.update_id };
  }

  private update(state: string, fullRefresh: boolean): FakeUpdate {
    return {
      update_id: `update-${this.nextUpdate++}`,
      state,
      creation_time: new Date(this.timeline.now()).toISOString(),
      full_refresh: fullRefresh,
    };
  }

  private pipeline(pipelineId: string): FakePipeline {
    const p = this.pipelines.get(pipelineId);
    if (!p) throw notFound(`Pipeline ${pipelineId}`);
    return p;
  }
}
