import { z } from 'zod';
import { parseDuration } from '../config/duration';
import { RotatorError } from '../errors';
import { parseSeverity } from '../logging/logger';
import {
  credentialSecretName,
  type DatabricksPins,
  workspaceOrigin,
} from '../trust/databricks-pins';
import type { DeploymentScope } from '../trust/scope';
import { formatIssues } from '../zod-issues';

/**
 * The functions' environment, parsed once at cold start with every problem reported together.
 * Documented in the README (Configuration) and set by the terraform module.
 */
// Not DurationSchema: its message quotes the input, and a setting's value stays out of errors.
const settingDuration = z
  .string()
  .refine((t) => parseDuration(t) !== undefined, 'a duration (e.g. 90s, 30m, 24h, 7d)')
  .transform((t) => parseDuration(t) as number);

const EnvSchema = z.object({
  GCP_PROJECT: z.string().min(1).optional(),
  GOOGLE_CLOUD_PROJECT: z.string().min(1).optional(),
  ROTATION_EVENTS_TOPIC: z
    .string()
    .regex(/^projects\/[^/]+\/topics\/[^/]+$/, 'a full topic name: projects/P/topics/T')
    .optional(),
  LOG_LEVEL: z.string().optional(),
  ROTATOR_LEASE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
  ROTATOR_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  ROTATOR_TEST_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  ROTATOR_TEST_RETRY_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  ROTATOR_DB_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  /** Regions whose regional secrets retireVersions also scans (comma-separated). */
  ROTATOR_LOCATIONS: z.string().default(''),
  ROTATOR_OVERDUE_MARGIN: settingDuration.prefault('1h'),
  /**
   * How long one delivery waits out Secret Manager's quota (RESOURCE_EXHAUSTED) before handing the
   * event back for redelivery; keep it well under the function's timeout (540 s).
   */
  ROTATOR_THROTTLE_WAIT: settingDuration.prefault('3m'),
  /** Floor under rotator.grace-period (alias reads lag minutes); only local stacks lower it. */
  ROTATOR_MIN_GRACE_PERIOD: settingDuration.optional(),
  /**
   * Projects besides GCP_PROJECT whose secrets this deployment manages (comma-separated ids or
   * numbers; Secret Manager names secrets by project number, so list the number of each project,
   * the own one included, as the terraform module does).
   */
  ROTATOR_PROJECTS: commaList(
    /^([a-z][a-z0-9-]{4,28}[a-z0-9]|[0-9]{1,20})$/,
    'project ids or numbers',
  ),
  /**
   * Where rotateSecret keeps a pending credential until it is verified (shared/rotation/staging.ts):
   * one full secret name, or a few (shards, at most 8) that spread the staging writes over their
   * per-secret write rates. Created by terraform (staging.tf); required by rotateSecret only.
   */
  ROTATOR_STAGING_SECRET: commaList(
    /^projects\/[^/]+\/(locations\/[^/]+\/)?secrets\/[A-Za-z0-9_-]{1,255}$/,
    'full secret names: projects/P/secrets/S',
  ).pipe(z.array(z.string()).max(8, 'at most 8 staging secrets')),
  /** Databricks workspaces consumers may name (comma-separated URLs or host names). */
  ROTATOR_DATABRICKS_HOSTS: commaList(
    /^(https?:\/\/)?[A-Za-z0-9.-]+(:[0-9]{1,5})?\/?$/,
    'host names or https:// URLs',
  ),
  /** Secrets holding Databricks PATs / M2M client secrets (comma-separated ids or full names). */
  ROTATOR_DATABRICKS_CREDENTIAL_SECRETS: commaList(
    /^([A-Za-z0-9_-]{1,255}|projects\/[^/]+\/secrets\/[A-Za-z0-9_-]{1,255})$/,
    'secret ids or projects/P/secrets/S',
  ),
});

function commaList(pattern: RegExp, what: string) {
  return z
    .string()
    .default('')
    .transform((text) =>
      text
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(pattern, `comma-separated ${what}`)));
}

export interface Settings {
  projectId: string;
  rotationEventsTopic: string;
  logLevel: ReturnType<typeof parseSeverity>;
  leaseMs: number;
  maxAttempts: number;
  testAttempts: number;
  testRetryDelayMs: number;
  dbConcurrency: number;
  locations: string[];
  overdueMarginMs: number;
  /** ROTATOR_THROTTLE_WAIT: one delivery's time for waiting out Secret Manager quota. */
  throttleWaitMs: number;
  minGracePeriodMs?: number;
  /** The staging secret shards (ROTATOR_STAGING_SECRET), full names; empty when unset. */
  stagingSecrets: string[];
  /** The secrets this deployment acts on (shared/trust/scope.ts). */
  scope: DeploymentScope;
  /** The Databricks workspaces and credential secrets consumers may use. */
  databricks: DatabricksPins;
}

/**
 * The deployment's environment is wrong: every event fails the same way until it is redeployed.
 * `settings` names the variables at fault; neither the message nor the fields ever hold a value
 * (a secret pasted into the wrong variable must not reach the logs).
 */
export class SettingsError extends RotatorError {
  readonly settings: string[];

  constructor(message: string, settings: string[]) {
    super(message, { context: { settings: settings.join(',') } });
    this.name = 'SettingsError';
    this.settings = settings;
  }
}

export function parseSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((i) => String(i.path[0])))];
    throw new SettingsError(`invalid environment: ${formatIssues(parsed.error)}`, names);
  }
  const e = parsed.data;
  const projectId = e.GCP_PROJECT ?? e.GOOGLE_CLOUD_PROJECT;
  const topic =
    e.ROTATION_EVENTS_TOPIC ??
    (projectId ? `projects/${projectId}/topics/rotation-events` : undefined);
  if (!projectId || !topic) {
    throw new SettingsError(
      'invalid environment: GCP_PROJECT (or ROTATION_EVENTS_TOPIC) is required',
      ['GCP_PROJECT', 'ROTATION_EVENTS_TOPIC'],
    );
  }
  return {
    projectId,
    rotationEventsTopic: topic,
    logLevel: parseSeverity(e.LOG_LEVEL),
    leaseMs: e.ROTATOR_LEASE_SECONDS * 1000,
    maxAttempts: e.ROTATOR_MAX_ATTEMPTS,
    testAttempts: e.ROTATOR_TEST_ATTEMPTS,
    testRetryDelayMs: e.ROTATOR_TEST_RETRY_MS,
    dbConcurrency: e.ROTATOR_DB_CONCURRENCY,
    locations: e.ROTATOR_LOCATIONS.split(',')
      .map((l) => l.trim())
      .filter(Boolean),
    overdueMarginMs: e.ROTATOR_OVERDUE_MARGIN,
    throttleWaitMs: e.ROTATOR_THROTTLE_WAIT,
    ...(e.ROTATOR_MIN_GRACE_PERIOD === undefined
      ? {}
      : { minGracePeriodMs: e.ROTATOR_MIN_GRACE_PERIOD }),
    stagingSecrets: e.ROTATOR_STAGING_SECRET,
    scope: { projects: [...new Set([projectId, ...e.ROTATOR_PROJECTS])] },
    databricks: {
      hosts: e.ROTATOR_DATABRICKS_HOSTS.map(workspaceOrigin),
      credentialSecrets: e.ROTATOR_DATABRICKS_CREDENTIAL_SECRETS.map((ref) =>
        credentialSecretName(ref, projectId),
      ),
    },
  };
}
