import type { Clock } from '../clock';
import type { DatabricksClient } from '../databricks/client';
import { DatabricksError } from '../databricks/databricks-error';
import type { WorkspaceConfig } from '../databricks/workspace-config';
import { describeError, isPermanent, ThrottledError } from '../errors';
import type { Logger } from '../logging/logger';
import type { Redactor } from '../logging/redactor';
import { applyCluster } from './apply-cluster';
import { applyJob } from './apply-job';
import { applyPipeline } from './apply-pipeline';
import { applySecretScope } from './apply-secret-scope';
import { applyUcConnection } from './apply-uc-connection';
import {
  type Applied,
  DEFAULT_PIPELINE_WAIT,
  type PipelineWait,
  type TargetContext,
} from './target-context';
import { type ConsumerTarget, type TargetKind, targetId } from './targets';

export const TARGET_STATUSES = ['done', 'skipped', 'failed'] as const;
export type TargetStatus = (typeof TARGET_STATUSES)[number];

/** One target's outcome: the refresh record that retirement waits on. Never holds a value. */
export interface TargetResult {
  id: string;
  kind: TargetKind;
  status: TargetStatus;
  reason?: string;
  /** For failed targets: whether trying again later may help (429/503/network, timeouts, 5xx). */
  retryable?: boolean;
  /** Failed only because Secret Manager throttled the payload read (quota): an expected wait. */
  throttled?: boolean;
  durationMs: number;
}

export interface RefreshInput {
  rotationId: string;
  secretName: string;
  /** The version number the rotation promoted to `current`. */
  newVersion: string;
  /** The rotation strategy (single-user, alternating-users, dual-password). */
  strategy: string;
  targets: ConsumerTarget[];
  workspace: WorkspaceConfig;
  /**
   * Ids of targets an earlier delivery of this rotation attempted and failed. A pipeline among
   * them that is now IDLE after a cancelled update is started: the earlier attempt may have
   * stopped it and then run out of time waiting for IDLE.
   */
  retriedTargetIds?: readonly string[];
}

export interface RefreshDeps {
  /** The client for a workspace (createWorkspaceClient in production). */
  clientFor(workspace: WorkspaceConfig): DatabricksClient;
  /** The payload of that version, read by number now (never through an alias). */
  readSecretVersion(secretName: string, version: string): Promise<string>;
  logger: Logger;
  clock: Clock;
  redactor: Redactor;
  pipelineWait?: PipelineWait;
}

/**
 * Applies each consumer target of a rotated secret, in order. A failing target is recorded and
 * the next one is still applied; nothing here throws for a target. The payload is read once, by
 * version number, only if a target needs it, and is never logged.
 */
export async function refreshConsumers(
  input: RefreshInput,
  deps: RefreshDeps,
): Promise<TargetResult[]> {
  const logger = deps.logger.child(
    { rotation_id: input.rotationId },
    { secret: input.secretName, version: input.newVersion },
  );
  if (input.strategy === 'single-user') {
    logger.warning(
      'single-user rotation: consumers holding the old password have been failing since the ' +
        'password changed, and stay broken until refreshed',
      { strategy: input.strategy, targets: input.targets.length },
    );
  }

  let payload: Promise<string> | undefined;
  const ctx: TargetContext = {
    client: deps.clientFor(input.workspace),
    rotationId: input.rotationId,
    payload: () => {
      payload ??= deps.readSecretVersion(input.secretName, input.newVersion).then((value) => {
        deps.redactor.add(value);
        return value;
      });
      return payload;
    },
    redactor: deps.redactor,
    logger,
    clock: deps.clock,
    pipelineWait: deps.pipelineWait ?? DEFAULT_PIPELINE_WAIT,
    retried: new Set(input.retriedTargetIds ?? []),
  };

  const results: TargetResult[] = [];
  for (const target of input.targets) {
    const id = targetId(target);
    const started = deps.clock.now();
    let result: TargetResult;
    try {
      const applied = await applyTarget(target, ctx);
      result = { id, kind: target.kind, ...applied, durationMs: deps.clock.now() - started };
    } catch (err) {
      result = {
        id,
        kind: target.kind,
        status: 'failed',
        reason: deps.redactor.scrub(failureReason(err)),
        retryable: isRetryable(err),
        ...(err instanceof ThrottledError ? { throttled: true } : {}),
        durationMs: deps.clock.now() - started,
      };
    }
    const fields = { target: id, kind: target.kind, status: result.status, reason: result.reason };
    if (result.throttled) {
      logger.info('consumer refresh waits for Secret Manager quota', fields);
    } else if (result.status === 'failed') {
      logger.error('consumer refresh failed', { ...fields, retryable: result.retryable });
    } else {
      logger.info(`consumer ${result.status}`, { ...fields, durationMs: result.durationMs });
    }
    results.push(result);
  }

  const count = (status: TargetStatus) => results.filter((r) => r.status === status).length;
  logger.info('consumers refresh finished', {
    done: count('done'),
    skipped: count('skipped'),
    failed: count('failed'),
  });
  return results;
}

function applyTarget(target: ConsumerTarget, ctx: TargetContext): Promise<Applied> {
  switch (target.kind) {
    case 'secret-scope':
      return applySecretScope(target, ctx);
    case 'job':
      return applyJob(target, ctx);
    case 'pipeline':
      return applyPipeline(target, ctx);
    case 'cluster':
      return applyCluster(target, ctx);
    case 'uc-connection':
      return applyUcConnection(target, ctx);
  }
}

function failureReason(err: unknown): string {
  const { message } = describeError(err);
  if (err instanceof DatabricksError && err.attempts > 1) {
    return `${message} (after ${err.attempts} attempts)`;
  }
  return message;
}

function isRetryable(err: unknown): boolean {
  if (err instanceof DatabricksError) return !err.permanent;
  return !isPermanent(err);
}
