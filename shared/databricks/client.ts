import { PermanentError } from '../errors';
import { createDatabricksHttp, type HttpOptions } from './http';
import {
  type Cluster,
  ClusterSchema,
  type Connection,
  ConnectionSchema,
  EmptyResponseSchema,
  type Job,
  JobSchema,
  type Pipeline,
  PipelineSchema,
  type Run,
  RunNowSchema,
  RunsListSchema,
  StartUpdateSchema,
} from './schemas';

/**
 * A small typed client for exactly the Databricks REST endpoints the rotator uses.
 *
 * Why not the Databricks JS SDK (@databricks/sdk-experimental): it is a preview ("not for
 * production use"), needs Node 22 (Cloud Functions here run Node 20), and its google-id auth
 * forgets an `await`, so it sends `Authorization: Bearer [object Promise]`. The modular
 * @databricks/sdk-* packages have no Google auth at all. A dozen endpoints over fetch, zod and
 * google-auth-library are less code to trust than either.
 */
export interface DatabricksClient {
  readonly host: string;
  /** secrets/put: overwrites the key, so it is safe to repeat. */
  putSecret(scope: string, key: string, value: string): Promise<void>;
  getJob(jobId: number): Promise<Job>;
  /** Every QUEUED, PENDING, RUNNING or TERMINATING run of the job, all pages. */
  listActiveRuns(jobId: number): Promise<Run[]>;
  /** Asynchronous: the run goes TERMINATING, then TERMINATED. Cancelling twice is harmless. */
  cancelRun(runId: number): Promise<void>;
  /**
   * run-now with an idempotency token (at most 64 characters): Databricks starts at most one run
   * per token and answers a repeat with the same run id, so the call may be retried. The run is
   * queued if the job is at its concurrency limit, instead of being skipped.
   */
  runNow(jobId: number, idempotencyToken: string): Promise<{ runId: number }>;
  getPipeline(pipelineId: string): Promise<Pipeline>;
  /** Cancels the active update; a no-op when there is none. */
  stopPipeline(pipelineId: string): Promise<void>;
  /**
   * Starts an update, never a full refresh (that would reset every table). Not idempotent and so
   * never retried: a second start would answer 409 at best, start a second update at worst.
   */
  startPipelineUpdate(pipelineId: string): Promise<{ updateId: string }>;
  getCluster(clusterId: string): Promise<Cluster>;
  /**
   * Restarts a RUNNING cluster. Repeating it while the first is under way does nothing (Databricks
   * restarts only RUNNING clusters, and the cluster is RESTARTING), hence retried.
   */
  restartCluster(clusterId: string): Promise<void>;
  /** The connection, with sensitive options (password, ...) left out by Databricks. */
  getConnection(name: string): Promise<Connection>;
  /** Replaces the connection's options with `options` (pass the full set). */
  updateConnectionOptions(name: string, options: Record<string, string>): Promise<void>;
}

/**
 * Runs per jobs/runs/list page: the Jobs API reference (and the SDKs generated from it, e.g.
 * sdk-js ListRunsRequest.limit) says the limit "must be greater than 0 and less than 25" (default
 * 20), so 24 is the largest page it allows.
 */
const RUNS_PAGE_SIZE = 24;
/** A job with more active runs than this is not something a rotation should page through. */
const MAX_RUN_PAGES = 40;
export const MAX_IDEMPOTENCY_TOKEN_LENGTH = 64;

export function createDatabricksClient(options: HttpOptions): DatabricksClient {
  const http = createDatabricksHttp(options);
  const pipelinePath = (id: string) => `/api/2.0/pipelines/${encodeURIComponent(id)}`;
  const connectionPath = (name: string) =>
    `/api/2.1/unity-catalog/connections/${encodeURIComponent(name)}`;

  return {
    host: options.host,

    async putSecret(scope, key, value) {
      await http({
        method: 'POST',
        path: '/api/2.0/secrets/put',
        body: { scope, key, string_value: value },
        idempotent: true,
        schema: EmptyResponseSchema,
      });
    },

    getJob: (jobId) =>
      http({
        method: 'GET',
        path: '/api/2.2/jobs/get',
        query: { job_id: jobId },
        idempotent: true,
        schema: JobSchema,
      }),

    async listActiveRuns(jobId) {
      const runs: Run[] = [];
      let pageToken: string | undefined;
      for (let page = 0; page < MAX_RUN_PAGES; page++) {
        const answer = await http({
          method: 'GET',
          path: '/api/2.2/jobs/runs/list',
          query: { job_id: jobId, active_only: true, limit: RUNS_PAGE_SIZE, page_token: pageToken },
          idempotent: true,
          schema: RunsListSchema,
        });
        runs.push(...(answer.runs ?? []));
        if (!answer.has_more || !answer.next_page_token) return runs;
        pageToken = answer.next_page_token;
      }
      return runs;
    },

    async cancelRun(runId) {
      await http({
        method: 'POST',
        path: '/api/2.2/jobs/runs/cancel',
        body: { run_id: runId },
        idempotent: true,
        schema: EmptyResponseSchema,
      });
    },

    async runNow(jobId, idempotencyToken) {
      if (idempotencyToken.length === 0 || idempotencyToken.length > MAX_IDEMPOTENCY_TOKEN_LENGTH) {
        // Repeating cannot fix it: permanent, so the refresh records it instead of retrying.
        throw new PermanentError(
          `idempotency token must be 1-${MAX_IDEMPOTENCY_TOKEN_LENGTH} chars`,
        );
      }
      const answer = await http({
        method: 'POST',
        path: '/api/2.2/jobs/run-now',
        body: { job_id: jobId, idempotency_token: idempotencyToken, queue: { enabled: true } },
        idempotent: true,
        schema: RunNowSchema,
      });
      return { runId: answer.run_id };
    },

    getPipeline: (pipelineId) =>
      http({
        method: 'GET',
        path: pipelinePath(pipelineId),
        idempotent: true,
        schema: PipelineSchema,
      }),

    async stopPipeline(pipelineId) {
      await http({
        method: 'POST',
        path: `${pipelinePath(pipelineId)}/stop`,
        idempotent: true,
        schema: EmptyResponseSchema,
      });
    },

    async startPipelineUpdate(pipelineId) {
      const answer = await http({
        method: 'POST',
        path: `${pipelinePath(pipelineId)}/updates`,
        body: { full_refresh: false },
        idempotent: false,
        schema: StartUpdateSchema,
      });
      return { updateId: answer.update_id };
    },

    getCluster: (clusterId) =>
      http({
        method: 'GET',
        path: '/api/2.1/clusters/get',
        query: { cluster_id: clusterId },
        idempotent: true,
        schema: ClusterSchema,
      }),

    async restartCluster(clusterId) {
      await http({
        method: 'POST',
        path: '/api/2.1/clusters/restart',
        body: { cluster_id: clusterId },
        idempotent: true,
        schema: EmptyResponseSchema,
      });
    },

    getConnection: (name) =>
      http({
        method: 'GET',
        path: connectionPath(name),
        idempotent: true,
        schema: ConnectionSchema,
      }),

    async updateConnectionOptions(name, connectionOptions) {
      await http({
        method: 'PATCH',
        path: connectionPath(name),
        body: { options: connectionOptions },
        idempotent: true,
        // PATCH answers with the connection; nothing in it is needed.
        schema: EmptyResponseSchema,
      });
    },
  };
}
