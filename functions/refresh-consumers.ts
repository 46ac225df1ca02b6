import {
  type RefreshForRotationDeps,
  refreshForRotation,
} from '../shared/consumers/refresh-for-rotation';
import { decodePubSubEvent } from '../shared/events/pubsub-cloud-event';
import { parseRotationOutcome } from '../shared/events/rotation-outcome';
import { withErrorBoundary } from '../shared/runtime/cloud-event-handler';
import { withDeliveryBudget } from '../shared/runtime/delivery';

/**
 * refreshConsumers: on rotation-events. For a successful rotation, applies the secret's Databricks
 * targets and records the result on the Secret (shared/consumers/refresh-for-rotation.ts); a
 * failed rotation leaves consumers on the unchanged current credential (DEBUG, acknowledged).
 */
export function makeRefreshConsumers(
  getDeps: () => RefreshForRotationDeps,
): (event: unknown) => Promise<void> {
  return withErrorBoundary(
    'refreshConsumers',
    () => getDeps().logger,
    async (event, log) => {
      const outcome = parseRotationOutcome(decodePubSubEvent(event).body);
      const rlog = log.child({ secret: outcome.secret, rotation_id: outcome.rotationId });
      if (outcome.outcome !== 'succeeded' || outcome.newVersion === undefined) {
        rlog.debug('failed rotation: consumers keep the unchanged current credential', {
          event: 'refresh.ignored',
        });
        return;
      }
      const base = getDeps();
      const deps = withDeliveryBudget(base, base.runtime.throttleWaitMs);
      await refreshForRotation({ ...outcome, newVersion: outcome.newVersion }, deps, rlog);
    },
  );
}
