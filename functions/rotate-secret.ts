import { isPermanent, PermanentError } from '../shared/errors';
import { decodePubSubEvent } from '../shared/events/pubsub-cloud-event';
import { classifyMessage, type RotationRequest } from '../shared/events/rotation-request';
import type { RotatorDeps } from '../shared/rotation/context';
import { deferredRequest } from '../shared/rotation/grace';
import { handleRotationRequest } from '../shared/rotation/rotator';
import { withErrorBoundary } from '../shared/runtime/cloud-event-handler';
import { withDeliveryBudget } from '../shared/runtime/delivery';
import { PermissionDeniedError } from '../shared/secrets/errors';

/**
 * How long a Secret Manager PERMISSION_DENIED counts as IAM propagation after a terraform apply
 * ("typically within 2 minutes, can take 7 minutes or longer", IAM docs), measured from the
 * request's own time: until then Pub/Sub redelivers; after it the request is rejected with an
 * ERROR naming the permission.
 */
export const IAM_PROPAGATION_MS = 10 * 60_000;

function permissionDeniedTooLong(err: unknown, ageMs: number): unknown {
  if (!(err instanceof PermissionDeniedError) || ageMs <= IAM_PROPAGATION_MS) return err;
  return new PermanentError(
    `Secret Manager denied ${err.permission ?? 'a permission'} on ${err.target} for longer than IAM propagation takes (${IAM_PROPAGATION_MS / 60_000} min): grant it to the function's service account, then request the rotation again`,
    { cause: err, context: { permission: err.permission, target: err.target } },
  );
}

/**
 * The request deferred on `secret`, if any. A secret that is gone or not readable as ours has
 * nothing deferred (the notification is then ignored like any other); a transient failure is
 * thrown, so Pub/Sub redelivers the notification.
 */
async function deferredOf(secret: string, deps: RotatorDeps): Promise<RotationRequest | undefined> {
  try {
    const snapshot = await deps.store.getSecret(secret);
    return deferredRequest(snapshot.name, snapshot.annotations);
  } catch (err) {
    if (isPermanent(err)) return undefined;
    throw err;
  }
}

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
      const base = getDeps();
      const deps = withDeliveryBudget(base, base.settings.throttleWaitMs);
      const message = decodePubSubEvent(event);
      const classified = classifyMessage(message, deps.clock.now());
      // Retirement disabled a version: a request deferred by the grace window may run now.
      // One GetSecret per disable event (a handful per rotation), none for other event types.
      const deferred =
        classified.kind === 'ignore' &&
        classified.eventType === SECRET_VERSION_DISABLE &&
        classified.secret
          ? await deferredOf(classified.secret, deps)
          : undefined;
      if (deferred) {
        log.info('carrying out a deferred rotation request', {
          event: 'rotation.deferred-resumed',
          secret: deferred.secret,
          requestKey: deferred.requestKey,
        });
        await handleRotationRequest(deferred, deps);
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
      try {
        await handleRotationRequest(classified.request, deps);
      } catch (err) {
        throw permissionDeniedTooLong(err, deps.clock.now() - classified.request.requestedAt);
      }
    },
  );
}
