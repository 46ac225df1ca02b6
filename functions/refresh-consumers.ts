import { ALIASES, STATE_KEYS } from '../shared/config/annotations';
import { refreshConsumers, type TargetResult } from '../shared/consumers/refresh';
import { DatabricksConsumersSchema, targetId } from '../shared/consumers/targets';
import { PermanentError, ThrottledError, TransientError } from '../shared/errors';
import { decodePubSubEvent, InvalidEventError } from '../shared/events/pubsub-cloud-event';
import { RotationOutcomeSchema } from '../shared/events/rotation-outcome';
import type { Logger } from '../shared/logging/logger';
import { type RefreshRecord, readRefreshRecord } from '../shared/rotation/refresh-record';
import { readConfig } from '../shared/rotation/rotator';
import { withErrorBoundary } from '../shared/runtime/cloud-event-handler';
import { withDeliveryBudget } from '../shared/runtime/delivery';
import type { Deps } from '../shared/runtime/deps';
import type { Settings } from '../shared/runtime/settings';
import { updateWithRetry } from '../shared/secrets/update-with-retry';
import { assertWorkspacePinned } from '../shared/trust/databricks-pins';
import { assertInScope } from '../shared/trust/scope';
import { TrustError } from '../shared/trust/trust-error';
import { formatIssues } from '../shared/zod-issues';

type RefreshFunctionDeps = Pick<
  Deps,
  'store' | 'clock' | 'logger' | 'redactor' | 'databricksClientFor'
> &
  Partial<Pick<Deps, 'randomBytes'>> & {
    runtime: Pick<Settings, 'projectId' | 'scope' | 'databricks'> & Partial<Settings>;
  };

/**
 * refreshConsumers: on rotation-events. For a successful rotation, applies the secret's Databricks
 * targets in order and records per target done / skipped / failed on the Secret (annotation
 * `rotator.refresh`), where retireVersions reads it. A redelivery re-applies only what is not done;
 * retryable failures are retried by redelivery, and the maximum grace bounds the wait.
 */
export function makeRefreshConsumers(
  getDeps: () => RefreshFunctionDeps,
): (event: unknown) => Promise<void> {
  return withErrorBoundary(
    'refreshConsumers',
    () => getDeps().logger,
    async (event, log) => {
      const base = getDeps();
      const deps = withDeliveryBudget(base, base.runtime.throttleWaitMs);
      const message = decodePubSubEvent(event);
      let json: unknown;
      try {
        json = JSON.parse(message.body);
      } catch {
        throw new InvalidEventError('rotation event body is not JSON');
      }
      const parsed = RotationOutcomeSchema.safeParse(json);
      if (!parsed.success) throw new InvalidEventError('not a rotation outcome message');
      const outcome = parsed.data;
      const rlog = log.child({ secret: outcome.secret, rotation_id: outcome.rotationId });
      if (outcome.outcome !== 'succeeded' || outcome.newVersion === undefined) {
        rlog.debug('failed rotation: consumers keep the unchanged current credential', {
          event: 'refresh.ignored',
        });
        return;
      }

      // Anyone who may publish to rotation-events could name any secret: only secrets this
      // deployment manages are refreshed, and only towards the workspaces it pins.
      const snapshot = await deps.store.getSecret(outcome.secret);
      assertInScope(snapshot, deps.runtime.scope);
      const config = readConfig(snapshot);
      if (config.consumers === undefined) {
        rlog.info('no Databricks consumers configured', { event: 'refresh.none' });
        return;
      }
      const consumers = DatabricksConsumersSchema.safeParse(config.consumers);
      if (!consumers.success) {
        throw new PermanentError(`rotator.consumers is invalid: ${formatIssues(consumers.error)}`);
      }
      const version = Number(outcome.newVersion);
      if (snapshot.aliases[ALIASES.current] !== version) {
        rlog.info('a newer rotation superseded this one: nothing to refresh', {
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
        await writeRecord(
          deps,
          outcome.secret,
          {
            rotationId: outcome.rotationId,
            version,
            updatedAt: deps.clock.now(),
            targets: consumers.data.targets.map((t) => ({
              id: targetId(t),
              kind: t.kind,
              status: 'failed' as const,
              reason: err.message.slice(0, 300),
            })),
          },
          rlog,
        );
        throw err;
      }

      const previous = readRefreshRecord(snapshot.annotations);
      const prior = previous?.rotationId === outcome.rotationId ? previous.targets : [];
      const settled = new Set(prior.filter((t) => t.status !== 'failed').map((t) => t.id));
      const todo = consumers.data.targets.filter((t) => !settled.has(targetId(t)));
      if (todo.length === 0) {
        rlog.debug('every consumer already refreshed for this rotation', {
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
            ? {
                id,
                kind: r.kind,
                status: r.status,
                ...(r.reason ? { reason: r.reason.slice(0, 300) } : {}),
              }
            : { id, kind: t.kind, status: 'failed' as const, reason: 'not attempted' };
        }),
      };
      await writeRecord(deps, outcome.secret, record, rlog);
      logSummary(rlog, results);
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
    },
  );
}

async function writeRecord(
  deps: RefreshFunctionDeps,
  secret: string,
  record: RefreshRecord,
  log: Logger,
) {
  await updateWithRetry(deps.store, secret, (snapshot) => {
    const existing = readRefreshRecord(snapshot.annotations);
    // A newer rotation's record is never overwritten by an older one.
    if (existing && existing.version > record.version) {
      log.info('a newer refresh record exists: keeping it', { event: 'refresh.superseded' });
      return undefined;
    }
    return {
      annotations: { ...snapshot.annotations, [STATE_KEYS.refresh]: JSON.stringify(record) },
    };
  });
}

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
