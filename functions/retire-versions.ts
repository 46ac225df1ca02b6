import { mapWithConcurrency } from '../shared/concurrency';
import { MANAGED_FILTER } from '../shared/config/annotations';
import { describeError, ThrottledError } from '../shared/errors';
import { decodePubSubEvent } from '../shared/events/pubsub-cloud-event';
import { ConditionMemory } from '../shared/retirement/condition-memory';
import { retireSecret } from '../shared/retirement/retire-secret';
import { withErrorBoundary } from '../shared/runtime/cloud-event-handler';
import { withDeliveryBudget } from '../shared/runtime/delivery';
import type { Deps } from '../shared/runtime/deps';
import { secretParents } from '../shared/secrets/parents';
import { inScope } from '../shared/trust/scope';

type RetireFunctionDeps = Pick<
  Deps,
  'store' | 'engineFor' | 'clock' | 'logger' | 'newHolderId' | 'runtime' | 'randomBytes'
>;

/**
 * retireVersions: on the retire-tick topic (Cloud Scheduler). Lists the managed secrets by label,
 * reports overdue ones, and retires what is due, a few secrets at a time. A failure on one secret
 * is logged and does not stop the others; the next tick tries again, so the tick itself is acked.
 */
export function makeRetireVersions(
  getDeps: () => RetireFunctionDeps,
): (event: unknown) => Promise<void> {
  // Lives as long as the function instance: see ConditionMemory for why not on the Secret.
  const overdueMemory = new ConditionMemory();
  // The same for a retirement that keeps failing (a database down for hours): ERROR once per
  // secret and cause, DEBUG on the ticks after, reported again when the cause changes.
  const failureMemory = new ConditionMemory();
  return withErrorBoundary(
    'retireVersions',
    () => getDeps().logger,
    async (event, log) => {
      const base = getDeps();
      const deps = withDeliveryBudget(base, base.runtime.throttleWaitMs);
      decodePubSubEvent(event);
      const started = deps.clock.now();
      // Every project of the deployment's scope, global and regional; a project listed by id and
      // by number yields the same secrets twice, kept once. The label filter is Secret Manager's;
      // inScope checks it again on what came back.
      const listed = (
        await Promise.all(
          deps.runtime.scope.projects
            .flatMap((project) => secretParents(project, deps.runtime.locations))
            .map((p) => deps.store.listSecrets(p, MANAGED_FILTER)),
        )
      ).flat();
      const secrets = [
        ...new Map(
          listed.filter((s) => inScope(s, deps.runtime.scope)).map((s) => [s.name, s]),
        ).values(),
      ];
      let actions = 0;
      let failures = 0;
      let throttled = 0;
      await mapWithConcurrency(secrets, deps.runtime.dbConcurrency, async (snapshot) => {
        try {
          const plan = await retireSecret(snapshot, {
            store: deps.store,
            engineFor: deps.engineFor,
            clock: deps.clock,
            logger: deps.logger,
            newHolderId: deps.newHolderId,
            leaseMs: deps.runtime.leaseMs,
            overdueMarginMs: deps.runtime.overdueMarginMs,
            overdueMemory,
            stagingSecrets: deps.runtime.stagingSecrets,
            ...(deps.runtime.minGracePeriodMs === undefined
              ? {}
              : { minGracePeriodMs: deps.runtime.minGracePeriodMs }),
          });
          actions += plan.actions.length;
          failureMemory.changed(snapshot.name, undefined);
        } catch (err) {
          if (err instanceof ThrottledError) {
            // Quota, not failure: the next tick retires it; nothing to alert on.
            throttled++;
            log.info('Secret Manager quota reached: this secret waits for the next tick', {
              event: 'retire.throttled',
              secret: snapshot.name,
            });
            return;
          }
          failures++;
          const error = describeError(err);
          const fields = { secret: snapshot.name, error };
          if (failureMemory.changed(snapshot.name, `${error.name}: ${error.message}`)) {
            log.error('retirement failed for a secret; the next tick retries', {
              event: 'retire.failed',
              ...fields,
            });
          } else {
            log.debug('retirement still failing for a secret (reported before)', {
              event: 'retire.failed',
              ...fields,
            });
          }
        }
      });
      log.info('retire tick done', {
        event: 'retire.tick',
        secrets: secrets.length,
        actions,
        failures,
        throttled,
        durationMs: deps.clock.now() - started,
      });
    },
  );
}
