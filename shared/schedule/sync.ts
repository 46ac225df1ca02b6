import { ConflictError } from '../errors';
import type { Logger } from '../logging/logger';
import type { SecretSnapshot, SecretStore } from '../secrets/secret-store';
import { nextTime, readSchedule, settableNextTime } from './schedule';

/**
 * The `next_rotation_time` a scheduled secret should have now, when it has not got it; undefined
 * when it is right (or the secret has no schedule, or no topics: Secret Manager refuses a
 * rotation without topics). Right means: no rotation period (a period would move the time off the
 * schedule after each notification) and the next scheduled time, or the one after it when the
 * next is too close for Secret Manager to accept (MIN_LEAD_MS).
 *
 * What Secret Manager does with `next_rotation_time` once it fired without a period is not
 * documented; the emulator clears the rotation (docs/secret-manager-emulator.md). This needs
 * neither: whatever is left (nothing, or a past time) is "not right", and the rotator sets it.
 */
export function nextRotationTimeToSet(snapshot: SecretSnapshot, now: number): number | undefined {
  const schedule = readSchedule(snapshot.annotations);
  if (!schedule || snapshot.topics.length === 0) return undefined;
  const settable = settableNextTime(schedule, now);
  if (settable === undefined) return undefined;
  const current = snapshot.rotation?.nextRotationTime;
  const right =
    snapshot.rotation?.periodMs === undefined &&
    current !== undefined &&
    current > now &&
    (current === settable || current === nextTime(schedule, now));
  return right ? undefined : settable;
}

/**
 * Set `next_rotation_time` to the next scheduled time when it is missing or wrong: one
 * UpdateSecret (etag compare-and-swap) or none. Used by the retire tick (a schedule changed with
 * gcloud or terraform takes effect within one tick, without a rotation) and by a deferred
 * notification. A concurrent change wins: the next tick tries again. Returns the Secret as it now
 * is, so the caller's later compare-and-swaps use the new etag.
 */
export async function syncNextRotationTime(
  store: SecretStore,
  snapshot: SecretSnapshot,
  now: number,
  log: Logger,
): Promise<SecretSnapshot> {
  const next = nextRotationTimeToSet(snapshot, now);
  if (next === undefined) return snapshot;
  try {
    const updated = await store.updateSecret(snapshot, { rotation: { nextRotationTime: next } });
    log.info('next rotation time set from the schedule', {
      event: 'schedule.next-set',
      nextRotationTime: new Date(next).toISOString(),
      previous:
        snapshot.rotation?.nextRotationTime === undefined
          ? null
          : new Date(snapshot.rotation.nextRotationTime).toISOString(),
    });
    return updated;
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    log.debug('secret changed meanwhile: next rotation time left to the next tick');
    return snapshot;
  }
}
