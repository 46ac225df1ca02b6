import { z } from 'zod';
import { WorkspaceConfigSchema } from '../databricks/workspace-config';

/**
 * The Databricks consumers of a managed secret: what to refresh after a rotation, in order.
 * Configured as JSON on the secret (see docs/databricks.md for examples); several targets per
 * secret, each kind optional. `id` names a target in the refresh record; without one, the id is
 * derived from the kind and the object (`job:123`, `secret-scope:etl/db-password`, ...).
 */
export const TARGET_KINDS = [
  'secret-scope',
  'job',
  'pipeline',
  'cluster',
  'uc-connection',
] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

const TargetIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$/, 'letters, digits and _ . : / - (at most 100)');

/**
 * What goes into the scope key:
 * - `json` (default): the whole payload, exactly as stored in Secret Manager. With
 *   alternating-users the login name changes at every rotation too, so only the whole document
 *   keeps user and password consistent.
 * - `password`: only the payload's `password` field, for Spark conf `{{secrets/scope/key}}`
 *   references used as a bare password (single-user and dual-password, where the user is fixed).
 */
export const SECRET_SCOPE_FIELDS = ['json', 'password'] as const;

export const SecretScopeTargetSchema = z.object({
  id: TargetIdSchema.optional(),
  kind: z.literal('secret-scope'),
  // Databricks' own rules for scope names and keys.
  scope: z.string().regex(/^[A-Za-z0-9_.@-]{1,128}$/, 'a Databricks secret scope name'),
  key: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'a Databricks secret key'),
  field: z.enum(SECRET_SCOPE_FIELDS).default('json'),
});

export const JOB_MODES = ['continuous', 'triggered'] as const;
/**
 * - continuous jobs, `restart` (their default): cancel the active run; Databricks starts a new one
 *   within a minute, which reads the new credential.
 * - triggered jobs, `none` (their default): nothing, the next run reads the new value; `restart`:
 *   run now (one run per rotation, idempotency token) and cancel the runs that were active.
 */
export const JOB_ON_ROTATE = ['none', 'restart'] as const;

export const JobTargetSchema = z.object({
  id: TargetIdSchema.optional(),
  kind: z.literal('job'),
  jobId: z.number().int().positive(),
  mode: z.enum(JOB_MODES),
  onRotate: z.enum(JOB_ON_ROTATE).optional(),
});

/** Stop, wait until IDLE, start an update (never a full refresh). */
export const PipelineTargetSchema = z.object({
  id: TargetIdSchema.optional(),
  kind: z.literal('pipeline'),
  pipelineId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a pipeline id'),
});

/** An all-purpose cluster whose Spark conf or env uses {{secrets/...}}: restarted if RUNNING. */
export const ClusterTargetSchema = z.object({
  id: TargetIdSchema.optional(),
  kind: z.literal('cluster'),
  clusterId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a cluster id'),
});

/**
 * A Unity Catalog connection (Lakehouse Federation). `options` maps a connection option to the
 * payload field that fills it, e.g. `{ "user": "username", "password": "password" }`; the other
 * options of the connection (host, port, ...) are kept.
 */
export const UcConnectionTargetSchema = z.object({
  id: TargetIdSchema.optional(),
  kind: z.literal('uc-connection'),
  name: z.string().min(1).max(255),
  options: z
    .record(z.string().regex(/^[A-Za-z0-9_.]{1,64}$/), z.string().min(1).max(128))
    .refine((mapping) => Object.keys(mapping).length > 0, 'map at least one option'),
});

export const ConsumerTargetSchema = z.discriminatedUnion('kind', [
  SecretScopeTargetSchema,
  JobTargetSchema,
  PipelineTargetSchema,
  ClusterTargetSchema,
  UcConnectionTargetSchema,
]);
export type ConsumerTarget = z.infer<typeof ConsumerTargetSchema>;
export type SecretScopeTarget = z.infer<typeof SecretScopeTargetSchema>;
export type JobTarget = z.infer<typeof JobTargetSchema>;
export type PipelineTarget = z.infer<typeof PipelineTargetSchema>;
export type ClusterTarget = z.infer<typeof ClusterTargetSchema>;
export type UcConnectionTarget = z.infer<typeof UcConnectionTargetSchema>;

/** The target's own id, or one derived from what it points at. */
export function targetId(target: ConsumerTarget): string {
  if (target.id) return target.id;
  switch (target.kind) {
    case 'secret-scope':
      return `secret-scope:${target.scope}/${target.key}`;
    case 'job':
      return `job:${target.jobId}`;
    case 'pipeline':
      return `pipeline:${target.pipelineId}`;
    case 'cluster':
      return `cluster:${target.clusterId}`;
    case 'uc-connection':
      return `uc-connection:${target.name}`;
  }
}

/** The refresh record is keyed by target id, so ids must be unique within a secret. */
export const ConsumerTargetsSchema = z
  .array(ConsumerTargetSchema)
  .max(50)
  .superRefine((targets, ctx) => {
    const seen = new Set<string>();
    targets.forEach((target, index) => {
      const id = targetId(target);
      if (seen.has(id)) ctx.addIssue({ code: 'custom', path: [index], message: `duplicate ${id}` });
      seen.add(id);
    });
  });

export { type WorkspaceConfig, WorkspaceConfigSchema } from '../databricks/workspace-config';

/** The whole consumer config of a secret: one workspace, its targets in order. */
export const DatabricksConsumersSchema = z.object({
  workspace: WorkspaceConfigSchema,
  targets: ConsumerTargetsSchema.min(1),
});
export type DatabricksConsumers = z.infer<typeof DatabricksConsumersSchema>;
