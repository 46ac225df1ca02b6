import { ApiError, invalid, invalidDoesNotExist } from './api-error';
import type { Timeline } from './timeline';

export const ACTIVE = ['QUEUED', 'PENDING', 'RUNNING', 'TERMINATING'] as const;

export interface FakeRun {
  run_id: number;
  job_id: number;
  life_cycle_state: string;
  result_state?: string;
  start_time: number;
  trigger: 'ONE_TIME' | 'CONTINUOUS';
  idempotency_token?: string;
}

export interface FakeJobSpec {
  jobId: number;
  name?: string;
  /** Continuous job; `paused` leaves it without a run. */
  continuous?: boolean;
  paused?: boolean;
  maxConcurrentRuns?: number;
  /** How long a run lasts once RUNNING; forever by default (until cancelled). */
  runDurationMs?: number;
}

export interface JobTimings {
  runStartMs: number;
  cancelMs: number;
  continuousRestartMs: number;
}

interface FakeJob extends Required<Omit<FakeJobSpec, 'runDurationMs'>> {
  runDurationMs?: number;
}

/**
 * Jobs and their runs. A run goes PENDING → RUNNING → TERMINATED (or TERMINATING → TERMINATED
 * CANCELED when cancelled); over the concurrency limit it waits QUEUED (Jobs 2.2 queues by
 * default). A continuous job has one active run, and starts a new one shortly after that run
 * ends, unless paused. run-now answers a repeated idempotency token with the first run.
 */
export class FakeJobs {
  private readonly jobs = new Map<number, FakeJob>();
  private readonly runs: FakeRun[] = [];
  private readonly tokens = new Map<string, number>();
  private nextRunId = 1000;

  constructor(
    private readonly timeline: Timeline,
    private readonly timings: JobTimings,
  ) {}

  add(spec: FakeJobSpec): void {
    const job: FakeJob = {
      name: `job-${spec.jobId}`,
      continuous: false,
      paused: false,
      maxConcurrentRuns: 1,
      ...spec,
    };
    this.jobs.set(spec.jobId, job);
    if (job.continuous && !job.paused) this.startRun(job, 'CONTINUOUS');
  }

  /** Starts a run as a schedule or a person would (not through run-now). */
  trigger(jobId: number): number {
    return this.startRun(this.job(jobId), 'ONE_TIME').run_id;
  }

  runsOf(jobId: number): FakeRun[] {
    this.timeline.advance();
    return this.runs.filter((r) => r.job_id === jobId).map((r) => ({ ...r }));
  }

  activeRunsOf(jobId: number): FakeRun[] {
    return this.runsOf(jobId).filter((r) => isActive(r));
  }

  get(jobId: number) {
    const job = this.job(jobId);
    return {
      job_id: job.jobId,
      settings: {
        name: job.name,
        max_concurrent_runs: job.maxConcurrentRuns,
        ...(job.continuous
          ? { continuous: { pause_status: job.paused ? 'PAUSED' : 'UNPAUSED' } }
          : {}),
      },
    };
  }

  list(query: URLSearchParams) {
    const jobId = Number(query.get('job_id'));
    // The reference: "greater than 0 and less than 25", default 20; 0 means the maximum.
    const asked = Number(query.get('limit') ?? 20);
    if (!Number.isInteger(asked) || asked < 0 || asked > 24) {
      throw invalid('limit must be greater than 0 and less than 25');
    }
    const limit = asked === 0 ? 24 : asked;
    const offset = query.get('page_token') ? Number(atob(query.get('page_token') ?? '')) : 0;
    const all = this.runs
      .filter((r) => !query.has('job_id') || r.job_id === jobId)
      .filter((r) => query.get('active_only') !== 'true' || isActive(r))
      .sort((a, b) => b.run_id - a.run_id);
    const page = all.slice(offset, offset + limit);
    const hasMore = offset + limit < all.length;
    return {
      ...(page.length > 0 ? { runs: page.map(toApiRun) } : {}),
      has_more: hasMore,
      ...(hasMore ? { next_page_token: btoa(String(offset + limit)) } : {}),
    };
  }

  runNow(body: Record<string, unknown>) {
    const job = this.job(Number(body.job_id));
    const token = typeof body.idempotency_token === 'string' ? body.idempotency_token : undefined;
    if (token !== undefined && token.length > 64) throw invalid('idempotency_token too long');
    if (token !== undefined) {
      const existing = this.tokens.get(`${job.jobId}:${token}`);
      if (existing !== undefined) return { run_id: existing, number_in_job: existing };
    }
    const run = this.startRun(job, 'ONE_TIME', token);
    if (token !== undefined) this.tokens.set(`${job.jobId}:${token}`, run.run_id);
    return { run_id: run.run_id, number_in_job: run.run_id };
  }

  cancel(body: Record<string, unknown>) {
    const run = this.runs.find((r) => r.run_id === Number(body.run_id));
    if (!run) throw invalidDoesNotExist(`Run ${String(body.run_id)}`);
    if (run.life_cycle_state === 'QUEUED') {
      this.finish(run, 'CANCELED');
    } else if (run.life_cycle_state === 'PENDING' || run.life_cycle_state === 'RUNNING') {
      run.life_cycle_state = 'TERMINATING';
      this.timeline.after(this.timings.cancelMs, () => this.finish(run, 'CANCELED'));
    }
    return {};
  }

  private job(jobId: number): FakeJob {
    const job = this.jobs.get(jobId);
    if (!job) throw invalidDoesNotExist(`Job ${jobId}`);
    return job;
  }

  private startRun(job: FakeJob, trigger: FakeRun['trigger'], token?: string): FakeRun {
    const running = this.runs.filter(
      (r) => r.job_id === job.jobId && isActive(r) && r.life_cycle_state !== 'QUEUED',
    );
    if (job.continuous && trigger === 'ONE_TIME') {
      throw new ApiError(400, 'INVALID_STATE', 'A continuous job cannot be run now');
    }
    const run: FakeRun = {
      run_id: this.nextRunId++,
      job_id: job.jobId,
      life_cycle_state: running.length >= job.maxConcurrentRuns ? 'QUEUED' : 'PENDING',
      start_time: this.timeline.now(),
      trigger,
      ...(token === undefined ? {} : { idempotency_token: token }),
    };
    this.runs.push(run);
    if (run.life_cycle_state === 'PENDING') this.schedule(run, job);
    return run;
  }

  private schedule(run: FakeRun, job: FakeJob): void {
    run.life_cycle_state = 'PENDING';
    this.timeline.after(this.timings.runStartMs, () => {
      if (run.life_cycle_state !== 'PENDING') return;
      run.life_cycle_state = 'RUNNING';
      if (job.runDurationMs !== undefined) {
        this.timeline.after(job.runDurationMs, () => {
          if (run.life_cycle_state === 'RUNNING') this.finish(run, 'SUCCESS');
        });
      }
    });
  }

  private finish(run: FakeRun, result: string): void {
    run.life_cycle_state = 'TERMINATED';
    run.result_state = result;
    const job = this.job(run.job_id);
    const queued = this.runs.find((r) => r.job_id === job.jobId && r.life_cycle_state === 'QUEUED');
    if (queued) {
      this.schedule(queued, job);
    } else if (job.continuous && !job.paused) {
      this.timeline.after(this.timings.continuousRestartMs, () => {
        if (!this.runs.some((r) => r.job_id === job.jobId && isActive(r))) {
          this.startRun(job, 'CONTINUOUS');
        }
      });
    }
  }
}

function isActive(run: FakeRun): boolean {
  return (ACTIVE as readonly string[]).includes(run.life_cycle_state);
}

function toApiRun(run: FakeRun) {
  return {
    run_id: run.run_id,
    job_id: run.job_id,
    start_time: run.start_time,
    trigger: run.trigger,
    state: {
      life_cycle_state: run.life_cycle_state,
      ...(run.result_state ? { result_state: run.result_state } : {}),
      state_message: '',
    },
  };
}
