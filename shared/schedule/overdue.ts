import type { Overdue } from '../retirement/overdue';
import { readHistory, readState } from '../rotation/state';
import type { SecretSnapshot } from '../secrets/secret-store';
import { readPause } from './pause';
import { previousTime, readSchedule } from './schedule';

/**
 * Overdue by the secret's own schedule. Undefined when neither applies (no pause, no schedule):
 * the caller goes on with Secret Manager's period. A paused secret is never overdue (`check`
 * reports a pause that has lasted too long instead). A scheduled secret is overdue when its last
 * successful rotation started before the latest scheduled time whose window and `marginMs` have
 * both passed (and the secret existed at that time).
 */
export function overdueBySchedule(
  snapshot: SecretSnapshot,
  now: number,
  marginMs: number,
): Overdue | undefined {
  if (readPause(snapshot.annotations)) return { overdue: false };
  const schedule = readSchedule(snapshot.annotations);
  if (!schedule) return undefined;
  const due = previousTime(schedule, now - schedule.windowMs - marginMs);
  if (due === undefined || due < (snapshot.createTime ?? 0)) return { overdue: false };
  const last = lastSuccessfulStart(snapshot.annotations);
  if (last !== undefined && last >= due) return { overdue: false };
  return {
    overdue: true,
    reason: 'scheduled rotation did not happen within its window',
    expectedAt: due,
  };
}

/** When the newest successful rotation started (history first; the promote time if it was cut). */
export function lastSuccessfulStart(annotations: Record<string, string>): number | undefined {
  const entry = readHistory(annotations).find((h) => h.outcome === 'succeeded');
  return entry?.startedAt ?? readState(annotations).promotedAt;
}
