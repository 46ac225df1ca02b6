import { ALIASES } from '../config/annotations';
import { PermanentError, ThrottledError, TransientError } from '../errors';
import type { RotationOutcome } from '../events/rotation-outcome';
import type { Logger } from '../logging/logger';
import { readConfig } from '../rotation/rotator';
import type { Deps } from '../runtime/deps';
import type { Settings } from '../runtime/settings';
import { assertWorkspacePinned } from '../trust/databricks-pins';
import { assertInScope } from '../trust/scope';
import { TrustError } from '../trust/trust-error';
import { formatIssues } from '../zod-issues';
import { refreshConsumers, type TargetResult } from './refresh';
import {
  MAX_REASON_LENGTH,
  type RefreshRecord,
  readRefreshRecord,
  writeRefreshRecord,
} from './refresh-record';
import { DatabricksConsumersSchema, targetId } from './targets';

/** What refreshing after a rotation needs: the store, Databricks clients and the trust settings. */
export type RefreshForRotationDeps = Pick<
  Deps,
  'store' | 'clock' | 'logger' | 'redactor' | 'databricksClientFor'
> &
  Partial<Pick<Deps, 'randomBytes'>> & {
    runtime: Pick<Settings, 'projectId' | 'scope' | 'databricks'> & Partial<Settings>;
  };

/**
 * After a successful rotation (`outcome.newVersion` set), apply the secret's Databricks targets in
 * order and record per target done / skipped / failed on the Secret (annotation
 * `rotator.refresh`, refresh-record.ts), where retireVersions reads it. A redelivery re-applies
 * only what is not done. Throws TrustError (permanent) for a workspace the deployment does not
 * pin, PermanentError for invalid `rotator.consumers`, TransientError when a target failed with a
 * retryable error (Pub/Sub redelivers; the maximum grace bounds the wait).
 */
export async function refreshForRotation(
  outcome: RotationOutcome & { newVersion: string },
  deps: RefreshForRotationDeps,
  log: Logger,
): Promise<void> {
  // Anyone who may publish to rotation-events could name any secret: only secrets this
  // deployment manages are refreshed, and only towards the workspaces it pins.
  const snapshot = await deps.store.getSecret(outcome.secret);
  assertInScope(snapshot, deps.runtime.scope);
  const config = readConfig(snapshot);
  if (config.consumers === undefined) {
    log.info('no Databricks consumers configured', { event: 'refresh.none' });
    return;
  }
  const consumers = DatabricksConsumersSchema.safeParse(config.consumers);
  if (!consumers.success) {
    throw new PermanentError(`rotator.consumers is invalid: ${formatIssues(consumers.error)}`);
  }
  const version = Number(outcome.newVersion);
  if (snapshot.aliases[ALIASES.current] !== version) {
    log.info('a newer rotation superseded this one: nothing to refresh', {
      event: 'refresh.superseded',
      current: snapshot.aliases[ALIASES.current],
    });
    return;
  }

  try {
    assertWorkspacePinned(
      consumers.data.workspace,
      deps.runtime.databricks,
      deps.runtime.projectId,
    );
  } catch (err) {
    if (!(err instanceof TrustError)) throw err;
    // Every target fails permanently, recorded for retirement and `status`; nothing was sent.
    const reason = cut(deps.redactor.scrub(err.message));
    await writeRefreshRecord(
      deps.store,
      outcome.secret,
      {
        rotationId: outcome.rotationId,
        version,
        updatedAt: deps.clock.now(),
        targets: consumers.data.targets.map((t) => ({
          id: targetId(t),
          kind: t.kind,
          status: 'failed' as const,
          reason,
        })),
      },
      log,
    );
    throw err;
  }

  const previous = readRefreshRecord(snapshot.annotations);
  const prior = previous?.rotationId === outcome.rotationId ? previous.targets : [];
  const settled = new Set(prior.filter((t) => t.status !== 'failed').map((t) => t.id));
  const todo = consumers.data.targets.filter((t) => !settled.has(targetId(t)));
  if (todo.length === 0) {
    log.debug('every consumer already refreshed for this rotation', {
      event: 'refresh.duplicate',
    });
    return;
  }

  const results = await refreshConsumers(
    {
      rotationId: outcome.rotationId,
      secretName: outcome.secret,
      newVersion: outcome.newVersion,
      strategy: outcome.strategy,
      targets: todo,
      workspace: consumers.data.workspace,
      // A target that failed before (e.g. a pipeline slow to stop) resumes where it left off.
      retriedTargetIds: prior.filter((t) => t.status === 'failed').map((t) => t.id),
    },
    {
      clientFor: deps.databricksClientFor,
      readSecretVersion: (name, v) => deps.store.accessVersion(name, Number(v)),
      logger: deps.logger,
      clock: deps.clock,
      redactor: deps.redactor,
    },
  );
  const record: RefreshRecord = {
    rotationId: outcome.rotationId,
    version,
    updatedAt: deps.clock.now(),
    targets: consumers.data.targets.map((t) => {
      const id = targetId(t);
      const r = results.find((x) => x.id === id) ?? prior.find((x) => x.id === id);
      return r
        ? { id, kind: r.kind, status: r.status, ...(r.reason ? { reason: cut(r.reason) } : {}) }
        : { id, kind: t.kind, status: 'failed' as const, reason: 'not attempted' };
    }),
  };
  await writeRefreshRecord(deps.store, outcome.secret, record, log);
  logSummary(log, results);
  const retryable = results.filter((r) => r.status === 'failed' && r.retryable);
  if (retryable.length > 0 && retryable.every((r) => r.throttled)) {
    throw new ThrottledError(
      'Secret Manager quota reached while refreshing consumers; redelivery retries them',
    );
  }
  if (retryable.length > 0) {
    throw new TransientError(
      'some consumers failed with a retryable error; redelivery retries them',
    );
  }
}

/** A scrubbed reason cut to what the record keeps. */
const cut = (reason: string) => reason.slice(0, MAX_REASON_LENGTH);

function logSummary(log: Logger, results: TargetResult[]) {
  const count = (s: TargetResult['status']) => results.filter((r) => r.status === s).length;
  const fields = {
    event: 'refresh.completed',
    done: count('done'),
    skipped: count('skipped'),
    failed: count('failed'),
    targets: results.map((r) => ({
      id: r.id,
      status: r.status,
      ...(r.reason ? { reason: r.reason } : {}),
    })),
  };
  if (fields.failed > 0) log.warning('consumers refreshed with failures', fields);
  else log.info('consumers refreshed', fields);
}
