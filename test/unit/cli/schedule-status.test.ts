import { scheduleChecks } from '../../../cli/commands/check';
import { secretStatus } from '../../../cli/commands/status';
import { CONFIG_KEYS, STATE_KEYS } from '../../../shared/config/annotations';
import { readConfig } from '../../../shared/rotation/rotator';
import type { SecretSnapshot } from '../../../shared/secrets/secret-store';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Thursday 2026-12-03 12:00Z.
const NOW = Date.UTC(2026, 11, 3, 12);

const snapshot = (annotations: Record<string, string>, over: Partial<SecretSnapshot> = {}) => ({
  name: 'projects/p/secrets/db',
  etag: 'e',
  labels: { rotator: 'managed' },
  annotations: {
    [CONFIG_KEYS.engine]: 'postgres',
    [CONFIG_KEYS.strategy]: 'alternating-users',
    [CONFIG_KEYS.adminSecret]: 'projects/p/secrets/admin',
    ...annotations,
  },
  aliases: { current: 4 },
  topics: ['projects/p/topics/secret-events'],
  createTime: NOW - 30 * DAY,
  ...over,
});
const SCHEDULE = {
  [CONFIG_KEYS.schedule]: '0 2 * * 0',
  [CONFIG_KEYS.timeZone]: 'Europe/Berlin',
  [CONFIG_KEYS.window]: '3h',
};
const PAUSE = {
  [STATE_KEYS.pause]: JSON.stringify({ by: 'alice', at: NOW - 2 * DAY, reason: 'quarter close' }),
};

describe('status with a schedule and a pause', () => {
  it('shows the schedule in words and the next three times in its zone as RFC 3339', () => {
    const status = secretStatus(snapshot(SCHEDULE), NOW, HOUR);
    expect(status.schedule).toEqual({
      expression: '0 2 * * 0',
      timeZone: 'Europe/Berlin',
      window: '3h',
      description: 'At 02:00, only on Sunday (Europe/Berlin), window 3h',
      next: ['2026-12-06T02:00:00+01:00', '2026-12-13T02:00:00+01:00', '2026-12-20T02:00:00+01:00'],
    });
  });

  it('is paused (not a failure), with who, when and why', () => {
    const status = secretStatus(snapshot({ ...SCHEDULE, ...PAUSE }), NOW, HOUR);
    expect(status.state).toBe('paused');
    expect(status.paused).toEqual({
      by: 'alice',
      at: new Date(NOW - 2 * DAY).toISOString(),
      reason: 'quarter close',
    });
    expect(status.reason).toMatch(/paused by alice at .*: quarter close/);
  });
});

describe('check: schedule and pause rows', () => {
  const rows = (annotations: Record<string, string>, maxAge: number, over = {}) => {
    const s = snapshot(annotations, over);
    return scheduleChecks(s, readConfig(s), NOW, maxAge);
  };

  it('passes a schedule without a period and adds no row for an unpaused secret', () => {
    expect(rows(SCHEDULE, 7 * DAY)).toEqual([
      {
        name: 'schedule',
        status: 'ok',
        detail: 'At 02:00, only on Sunday (Europe/Berlin), window 3h',
      },
    ]);
    expect(rows({}, 7 * DAY)).toEqual([]);
  });

  it('fails a schedule with a rotation period as well', () => {
    const [row] = rows(SCHEDULE, 7 * DAY, {
      rotation: { nextRotationTime: NOW + DAY, periodMs: 30 * DAY },
    });
    expect(row).toMatchObject({ name: 'schedule', status: 'fail' });
    expect(row?.detail).toMatch(/also has a rotation period of 30d/);
  });

  it('fails a pause older than the allowed age only', () => {
    expect(rows(PAUSE, 7 * DAY)).toEqual([
      expect.objectContaining({ name: 'pause', status: 'ok' }),
    ]);
    const [old] = rows(PAUSE, DAY);
    expect(old).toMatchObject({ name: 'pause', status: 'fail' });
    expect(old?.detail).toMatch(/paused by alice since .*: quarter close; longer than 1d/);
  });
});
