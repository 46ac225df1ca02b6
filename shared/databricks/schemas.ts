import { z } from 'zod';

/**
 * The parts of Databricks' answers that the client reads. Objects are not strict (unknown fields
 * are dropped, not refused) and states are plain strings: Databricks adds fields and states
 * without a version bump, and a new state must not break a rotation.
 */
export const EmptyResponseSchema = z.object({});

export const JobSchema = z.object({
  job_id: z.number().int(),
  settings: z
    .object({
      name: z.string().optional(),
      continuous: z.object({ pause_status: z.string().optional() }).optional(),
      max_concurrent_runs: z.number().int().optional(),
    })
    .optional(),
});
export type Job = z.infer<typeof JobSchema>;

export const RunSchema = z.object({
  run_id: z.number().int(),
  job_id: z.number().int().optional(),
  state: z
    .object({
      life_cycle_state: z.string().optional(),
      result_state: z.string().optional(),
    })
    .optional(),
  start_time: z.number().optional(),
});
export type Run = z.infer<typeof RunSchema>;

export const RunsListSchema = z.object({
  runs: z.array(RunSchema).optional(),
  has_more: z.boolean().optional(),
  next_page_token: z.string().optional(),
});

export const RunNowSchema = z.object({ run_id: z.number().int() });

export const PipelineSchema = z.object({
  pipeline_id: z.string(),
  name: z.string().optional(),
  state: z.string().optional(),
  latest_updates: z
    .array(
      z.object({
        update_id: z.string(),
        state: z.string().optional(),
        creation_time: z.string().optional(),
      }),
    )
    .optional(),
});
export type Pipeline = z.infer<typeof PipelineSchema>;

export const StartUpdateSchema = z.object({ update_id: z.string() });

export const ClusterSchema = z.object({
  cluster_id: z.string(),
  cluster_name: z.string().optional(),
  state: z.string(),
});
export type Cluster = z.infer<typeof ClusterSchema>;

/** GET leaves sensitive options (password, ...) out of `options`. */
export const ConnectionSchema = z.object({
  name: z.string(),
  connection_type: z.string().optional(),
  options: z.record(z.string(), z.string()).optional(),
});
export type Connection = z.infer<typeof ConnectionSchema>;

/** Databricks' error body; some gateways answer with HTML or nothing, hence all optional. */
export const ErrorBodySchema = z.object({
  error_code: z.string().optional(),
  message: z.string().optional(),
});

/** Pipeline states in which no update is running, so there is nothing to stop. */
export const PIPELINE_IDLE_STATES = ['IDLE', 'FAILED'] as const;
