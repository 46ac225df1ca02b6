import { STATE_KEYS } from '../../../shared/config/annotations';
import { checkOverdue } from '../../../shared/retirement/overdue';
import { scheduleGate } from '../../../shared/schedule/gate';
import { overdueBySchedule } from '../../../shared/schedule/overdue';
import { nextRotationTimeToSet } from '../../../shared/schedule/sync';
import type { SecretSnapshot } from '../../../shared/secrets/secret-store';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (iso: string) => Date.parse(iso);
// Sundays 02:00 Berlin, 3 h window. 2026-11-29 02:00 CET = 01:00Z.
const SUNDAY = at('2026-11-29T01:00:00Z');
const NEXT_SUNDAY = SUNDAY + 7 * DAY;
const SCHEDULED = {
  'rotator.engine': 'postgres',
  'rotator.schedule': '0 2 * * 0',
  'rotator.time-zone': 'Europe/Berlin',
  'rotator.window': '3h',
};

function secret(
  annotations: Record<string, string> = SCHEDULED,
  extra: Partial<SecretSnapshot> = {},
): SecretSnapshot {
  return {
    name: 'projects/p/secrets/s',
    etag: '"1"',
    labels: {},
    annotations,
    aliases: {},
    topics: ['projects/p/topics/secret-events'],
    createTime: at('2026-01-01T00:00:00Z'),
    ...extra,
  };
}
const paused = (a: Record<string, string> = SCHEDULED) => ({
  ...a,
  [STATE_KEYS.pause]: JSON.stringify({ by: 'alice', at: SUNDAY - DAY, reason: 'quarter close' }),
});
const scheduled = (requestedAt: number) => ({ trigger: 'schedule' as const, requestedAt });
const onDemand = (requestedAt: number) => ({ trigger: 'on-demand' as const, requestedAt });

describe('scheduleGate (window arithmetic)', () => {
  it('rotates a notification delivered inside its window, up to the instant it closes', () => {
    expect(scheduleGate(secret(), scheduled(SUNDAY), SUNDAY + 1000).action).toBe('proceed');
    expect(scheduleGate(secret(), scheduled(SUNDAY), SUNDAY + 3 * HOUR).action).toBe('proceed');
  });

  it('defers a notification delivered after its window closed', () => {
    expect(scheduleGate(secret(), scheduled(SUNDAY), SUNDAY + 3 * HOUR + 1)).toEqual({
      action: 'defer',
      why: 'outside-window',
      scheduledAt: SUNDAY,
      closesAt: SUNDAY + 3 * HOUR,
    });
  });

  it('defers a notification fired at a time the schedule does not name', () => {
    // Someone set next_rotation_time by hand to Wednesday noon.
    const wednesday = SUNDAY + 3 * DAY + 11 * HOUR;
    expect(scheduleGate(secret(), scheduled(wednesday), wednesday + 1000)).toMatchObject({
      action: 'defer',
      why: 'outside-window',
      scheduledAt: SUNDAY,
    });
  });

  it('on-demand and emergency requests rotate at once, outside the window and while paused', () => {
    const late = SUNDAY + 2 * DAY;
    expect(scheduleGate(secret(), onDemand(late), late).action).toBe('proceed');
    expect(scheduleGate(secret(paused()), onDemand(late), late).action).toBe('proceed');
    expect(
      scheduleGate(secret(paused()), { ...scheduled(late), emergency: true }, late).action,
    ).toBe('proceed');
  });

  it('a paused secret acknowledges its scheduled notifications, with or without a cron schedule', () => {
    expect(scheduleGate(secret(paused()), scheduled(SUNDAY), SUNDAY)).toMatchObject({
      action: 'defer',
      why: 'paused',
      pause: { by: 'alice', reason: 'quarter close' },
    });
    const periodOnly = { 'rotator.engine': 'postgres' };
    expect(scheduleGate(secret(paused(periodOnly)), scheduled(SUNDAY), SUNDAY).action).toBe(
      'defer',
    );
    expect(scheduleGate(secret(periodOnly), scheduled(SUNDAY), SUNDAY + 9 * DAY).action).toBe(
      'proceed',
    );
  });
});

describe('nextRotationTimeToSet', () => {
  const now = SUNDAY + HOUR;
  it('sets a missing or past time to the next scheduled one', () => {
    expect(nextRotationTimeToSet(secret(), now)).toBe(NEXT_SUNDAY);
    expect(
      nextRotationTimeToSet(secret(SCHEDULED, { rotation: { nextRotationTime: SUNDAY } }), now),
    ).toBe(NEXT_SUNDAY);
  });

  it('leaves a right time alone', () => {
    expect(
      nextRotationTimeToSet(
        secret(SCHEDULED, { rotation: { nextRotationTime: NEXT_SUNDAY } }),
        now,
      ),
    ).toBeUndefined();
  });

  it('corrects a time off the schedule, and a rotation period (the schedule changed)', () => {
    const old = NEXT_SUNDAY + 2 * HOUR;
    expect(
      nextRotationTimeToSet(secret(SCHEDULED, { rotation: { nextRotationTime: old } }), now),
    ).toBe(NEXT_SUNDAY);
    expect(
      nextRotationTimeToSet(
        secret(SCHEDULED, { rotation: { nextRotationTime: NEXT_SUNDAY, periodMs: 30 * DAY } }),
        now,
      ),
    ).toBe(NEXT_SUNDAY);
  });

  it('writes nothing for a secret without schedule or without topics', () => {
    expect(nextRotationTimeToSet(secret({ 'rotator.engine': 'postgres' }), now)).toBeUndefined();
    expect(nextRotationTimeToSet(secret(SCHEDULED, { topics: [] }), now)).toBeUndefined();
  });
});

describe('overdue by schedule', () => {
  const MARGIN = HOUR;
  const rotatedAt = (startedAt: number) => ({
    ...SCHEDULED,
    [STATE_KEYS.history]: JSON.stringify([
      {
        id: 'r1',
        trigger: 'schedule',
        outcome: 'succeeded',
        startedAt,
        completedAt: startedAt + 5000,
        fromVersion: 1,
        toVersion: 2,
        attempts: 1,
      },
    ]),
  });

  it('is not overdue while the window and margin of the last scheduled time run', () => {
    const s = secret(rotatedAt(SUNDAY - 7 * DAY + 60_000));
    expect(overdueBySchedule(s, SUNDAY + 4 * HOUR - 1, MARGIN)).toEqual({ overdue: false });
  });

  it('is overdue once they passed without a rotation since that scheduled time', () => {
    const s = secret(rotatedAt(SUNDAY - 7 * DAY + 60_000));
    expect(overdueBySchedule(s, SUNDAY + 4 * HOUR + 1, MARGIN)).toEqual({
      overdue: true,
      reason: 'scheduled rotation did not happen within its window',
      expectedAt: SUNDAY,
    });
    // The same through checkOverdue, which retireVersions and `status` call.
    expect(checkOverdue(s, SUNDAY + 4 * HOUR + 1, MARGIN)).toMatchObject({ overdue: true });
  });

  it('is not overdue after a successful rotation in the window', () => {
    const s = secret(rotatedAt(SUNDAY + 2 * HOUR));
    expect(overdueBySchedule(s, SUNDAY + 6 * DAY, MARGIN)).toEqual({ overdue: false });
  });

  it('is not overdue for a secret created after the last scheduled time', () => {
    const s = secret(SCHEDULED, { createTime: SUNDAY + HOUR });
    expect(overdueBySchedule(s, SUNDAY + 6 * DAY, MARGIN)).toEqual({ overdue: false });
  });

  it('never alerts for a paused secret; leaves unscheduled ones to the period logic', () => {
    expect(overdueBySchedule(secret(paused()), SUNDAY + 6 * DAY, MARGIN)).toEqual({
      overdue: false,
    });
    const periodOnly = secret({ 'rotator.engine': 'postgres' });
    expect(overdueBySchedule(periodOnly, SUNDAY, MARGIN)).toBeUndefined();
  });

  it('does not report a past next_rotation_time as a missed notification when a schedule is set', () => {
    // Secret Manager may leave the fired time in place (no period): the schedule decides instead.
    const s = secret(rotatedAt(SUNDAY + 60_000), { rotation: { nextRotationTime: SUNDAY } });
    expect(checkOverdue(s, SUNDAY + 5 * HOUR, MARGIN)).toEqual({ overdue: false });
  });
});
