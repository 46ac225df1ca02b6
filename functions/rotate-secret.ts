import { decodePubSubEvent } from '../shared/events/pubsub-cloud-event';
import { classifyMessage } from '../shared/events/rotation-request';
import type { RotatorDeps } from '../shared/rotation/context';
import { deferredRequest } from '../shared/rotation/grace';
import { handleRotationRequest } from '../shared/rotation/rotator';
import { withErrorBoundary } from '../shared/runtime/cloud-event-handler';

/** Secret Manager's notification when a version is disabled (retirement sends it). */
const SECRET_VERSION_DISABLE = 'SECRET_VERSION_DISABLE';

/**
 * rotateSecret: on the secret-events topic. Rotates on Secret Manager's SECRET_ROTATE and on
 * on-demand ROTATION_REQUESTED messages; every other event type (most of them caused by the
 * rotator's own writes) is acknowledged with a debug line.
 */
export function makeRotateSecret(getDeps: () => RotatorDeps): (event: unknown) => Promise<void> {
  return withErrorBoundary(
    'rotateSecret',
    () => getDeps().logger,
    async (event, log) => {
      const deps = getDeps();
      const message = decodePubSubEvent(event);
      const classified = classifyMessage(message, deps.clock.now());
      if (
        classified.kind === 'ignore' &&
        classified.eventType === SECRET_VERSION_DISABLE &&
        classified.secret
      ) {
        // Retirement disabled a version: a request deferred by the grace window may run now.
        // One GetSecret per disable event (a handful per rotation), none for other event types.
        const snapshot = await deps.store.getSecret(classified.secret);
        const deferred = deferredRequest(snapshot.name, snapshot.annotations);
        if (deferred) {
          log.info('carrying out a deferred rotation request', {
            event: 'rotation.deferred-resumed',
            secret: snapshot.name,
            requestKey: deferred.requestKey,
          });
          await handleRotationRequest(deferred, deps);
        }
        return;
      }
      if (classified.kind === 'ignore') {
        log.debug('event type not handled by rotateSecret', {
          event: 'event.ignored',
          eventType: classified.eventType,
          ...(classified.secret ? { secret: classified.secret } : {}),
        });
        return;
      }
      await handleRotationRequest(classified.request, deps);
    },
  );
}
