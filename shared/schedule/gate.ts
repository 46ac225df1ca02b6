import type { RotationRequest } from '../events/rotation-request';
import type { SecretSnapshot } from '../secrets/secret-store';
import { type Pause, readPause } from './pause';
import { readSchedule, windowOf } from './schedule';

/**
 * Whether a request that would start a new rotation may start it now, decided from the Secret
 * snapshot the rotator already read (no further call). Only Secret Manager's scheduled
 * notifications are held back: on-demand requests are deliberate and the emergency rotation is
 * urgent, so both always rotate.
 * - paused: a scheduled notification is acknowledged, nothing rotates;
 * - with `rotator.schedule`: a notification whose window closed (delivery delayed, Pub/Sub
 *   retries, an outage) is acknowledged rather than rotating at a random hour.
 * A rotation already in flight is never gated: it always finishes.
 */
export type ScheduleGate =
  | { action: 'proceed' }
  | { action: 'defer'; why: 'paused'; pause: Pause }
  | { action: 'defer'; why: 'outside-window'; scheduledAt?: number; closesAt?: number };

export function scheduleGate(
  snapshot: SecretSnapshot,
  request: Pick<RotationRequest, 'trigger' | 'requestedAt'> & { emergency?: boolean },
  now: number,
): ScheduleGate {
  if (request.trigger !== 'schedule' || request.emergency === true) return { action: 'proceed' };
  const pause = readPause(snapshot.annotations);
  if (pause) return { action: 'defer', why: 'paused', pause };
  const schedule = readSchedule(snapshot.annotations);
  if (!schedule) return { action: 'proceed' };
  // The notification's own timestamp says which scheduled time it was sent for.
  const window = windowOf(schedule, request.requestedAt);
  if (!window) return { action: 'defer', why: 'outside-window' };
  if (now > window.closesAt || request.requestedAt > window.closesAt) {
    return { action: 'defer', why: 'outside-window', ...window };
  }
  return { action: 'proceed' };
}
