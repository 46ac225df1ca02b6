import { readState } from '../rotation/state';
import { overdueBySchedule } from '../schedule/overdue';
import type { SecretSnapshot } from '../secrets/secret-store';

/**
 * Whether a managed secret missed a rotation: it failed, or its schedule says a SECRET_ROTATE
 * should have fired (more than `marginMs` ago) and no rotation started since. This catches
 * notifications that never arrived (a topic or permission misconfigured, a dropped event).
 */
export type Overdue = { overdue: false } | { overdue: true; reason: string; expectedAt?: number };

export function checkOverdue(snapshot: SecretSnapshot, now: number, marginMs: number): Overdue {
  const state = readState(snapshot.annotations);
  if (state.status === 'failed') {
    return {
      overdue: true,
      reason: `last rotation failed: ${state.rotation?.error ?? 'unknown error'}`,
    };
  }
  // Stalled means no progress for longer than redelivery can explain. `leaseUntil` is the last
  // sign of life: a live lease, or the moment a worker gave its lease up after a transient failure
  // (Pub/Sub then redelivers within its maximum backoff, 600 s, far inside the margin). A released
  // lease written as 0 by an older version says nothing about when, so it is not read as stalled.
  const r = state.rotation;
  if (state.status === 'rotating' && r && r.leaseUntil > 0 && r.leaseUntil + marginMs < now) {
    // Its worker died and no redelivery came to take over.
    return {
      overdue: true,
      reason: `rotation ${r.id} stalled at step ${r.step}`,
    };
  }
  // A paused secret, or one with a cron schedule, is judged by shared/schedule instead.
  const bySchedule = overdueBySchedule(snapshot, now, marginMs);
  if (bySchedule) return bySchedule;
  const next = snapshot.rotation?.nextRotationTime;
  if (next === undefined) return { overdue: false };
  if (now > next + marginMs) {
    // Secret Manager advances next_rotation_time when it notifies; a time far in the past means
    // it did not notify at all.
    return {
      overdue: true,
      reason: 'next rotation time passed without a notification',
      expectedAt: next,
    };
  }
  const period = snapshot.rotation?.periodMs;
  if (period === undefined) return { overdue: false };
  const expectedAt = next - period;
  const since = state.lastStartedAt ?? snapshot.createTime ?? 0;
  if (
    expectedAt > (snapshot.createTime ?? 0) &&
    now > expectedAt + marginMs &&
    since < expectedAt - marginMs
  ) {
    return { overdue: true, reason: 'scheduled rotation did not start', expectedAt };
  }
  return { overdue: false };
}
