import { RotationConfigSchema } from '../../../shared/config/rotation-config';
import { describeSchedule, rfc3339InZone } from '../../../shared/schedule/describe';
import {
  nextTimes,
  previousTime,
  readSchedule,
  type Schedule,
  settableNextTime,
  windowOf,
} from '../../../shared/schedule/schedule';

const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number[]) => ms.map((t) => new Date(t).toISOString());
const sched = (expression: string, timeZone: string, windowMs = HOUR): Schedule => ({
  expression,
  timeZone,
  windowMs,
});

describe('next cron times across daylight-saving changes', () => {
  // 2026: Europe/Berlin springs forward on 29 March (02:00 CET -> 03:00 CEST) and falls back on
  // 25 October (03:00 CEST -> 02:00 CET); America/New_York on 8 March and 1 November.
  it('Europe/Berlin, spring: 02:30 does not exist that night and runs at 03:00 CEST', () => {
    const s = sched('30 2 * * *', 'Europe/Berlin');
    expect(iso(nextTimes(s, at('2026-03-27T12:00:00Z'), 4))).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET (+01:00)
      '2026-03-29T01:00:00.000Z', // the gap: first valid time after it, 03:00 CEST
      '2026-03-30T00:30:00.000Z', // 02:30 CEST (+02:00)
      '2026-03-31T00:30:00.000Z',
    ]);
  });

  it('Europe/Berlin, autumn: 02:30 happens twice that night and runs once', () => {
    const s = sched('30 2 * * *', 'Europe/Berlin');
    expect(iso(nextTimes(s, at('2026-10-24T12:00:00Z'), 3))).toEqual([
      '2026-10-25T00:30:00.000Z', // the first 02:30 (CEST)
      '2026-10-26T01:30:00.000Z', // 02:30 CET
      '2026-10-27T01:30:00.000Z',
    ]);
  });

  it('Europe/Berlin: an interval pattern runs on every real half hour through the repeat', () => {
    const s = sched('*/30 * * * *', 'Europe/Berlin');
    expect(iso(nextTimes(s, at('2026-10-25T00:10:00Z'), 4))).toEqual([
      '2026-10-25T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T01:00:00.000Z', // 02:00 CET (the hour again)
      '2026-10-25T01:30:00.000Z', // 02:30 CET
      '2026-10-25T02:00:00.000Z', // 03:00 CET
    ]);
  });

  it('America/New_York, spring and autumn', () => {
    expect(
      iso(nextTimes(sched('30 2 * * *', 'America/New_York'), at('2026-03-07T12:00:00Z'), 3)),
    ).toEqual([
      '2026-03-08T07:00:00.000Z', // 02:30 does not exist: 03:00 EDT
      '2026-03-09T06:30:00.000Z', // 02:30 EDT (-04:00)
      '2026-03-10T06:30:00.000Z',
    ]);
    expect(
      iso(nextTimes(sched('30 1 * * *', 'America/New_York'), at('2026-10-31T12:00:00Z'), 3)),
    ).toEqual([
      '2026-11-01T05:30:00.000Z', // the first 01:30 (EDT); not again at 06:30Z (EST)
      '2026-11-02T06:30:00.000Z', // 01:30 EST (-05:00)
      '2026-11-03T06:30:00.000Z',
    ]);
  });

  it('a weekly quiet-hours schedule keeps its wall time on both sides of the change', () => {
    const s = sched('0 2 * * 0', 'Europe/Berlin');
    const times = nextTimes(s, at('2026-10-12T00:00:00Z'), 3);
    expect(times.map((t) => rfc3339InZone(t, 'Europe/Berlin'))).toEqual([
      '2026-10-18T02:00:00+02:00',
      '2026-10-25T02:00:00+02:00', // 02:00 happens twice that night: once, at the first
      '2026-11-01T02:00:00+01:00',
    ]);
  });

  it('UTC is the default zone and has no daylight saving', () => {
    const s = readSchedule({ 'rotator.schedule': '30 2 * * *' }) as Schedule;
    expect(s).toEqual({ expression: '30 2 * * *', timeZone: 'UTC', windowMs: HOUR });
    expect(iso(nextTimes(s, at('2026-03-28T12:00:00Z'), 2))).toEqual([
      '2026-03-29T02:30:00.000Z',
      '2026-03-30T02:30:00.000Z',
    ]);
  });
});

describe('previous cron time and windows', () => {
  const s = sched('0 2 * * 0', 'Europe/Berlin', 3 * HOUR);
  const sunday2am = at('2026-11-29T01:00:00Z'); // 02:00 CET

  it('previousTime is inclusive of the scheduled instant', () => {
    expect(previousTime(s, sunday2am)).toBe(sunday2am);
    expect(previousTime(s, sunday2am - 1000)).toBe(at('2026-11-22T01:00:00Z'));
    expect(previousTime(s, sunday2am + 5 * HOUR)).toBe(sunday2am);
  });

  it('a notification belongs to the scheduled time at or just before it', () => {
    expect(windowOf(s, sunday2am + 2_000)).toEqual({
      scheduledAt: sunday2am,
      closesAt: sunday2am + 3 * HOUR,
    });
    // Stamped a few seconds early (clock skew): still that scheduled time.
    expect(windowOf(s, sunday2am - 5_000)?.scheduledAt).toBe(sunday2am);
    // Days later: the window of last week's time, long closed.
    expect(windowOf(s, sunday2am + 2 * 86_400_000)?.closesAt).toBe(sunday2am + 3 * HOUR);
  });

  it('settableNextTime skips a scheduled time Secret Manager would refuse (< 5 min ahead)', () => {
    const hourly = sched('0 * * * *', 'UTC');
    expect(settableNextTime(hourly, at('2026-01-01T10:50:00Z'))).toBe(at('2026-01-01T11:00:00Z'));
    expect(settableNextTime(hourly, at('2026-01-01T10:56:00Z'))).toBe(at('2026-01-01T12:00:00Z'));
  });
});

describe('schedule annotations', () => {
  const base = {
    'rotator.engine': 'postgres',
    'rotator.strategy': 'alternating-users',
    'rotator.admin-secret': 'projects/p/secrets/db-admin',
  };
  const issues = (a: Record<string, string>) => {
    const r = RotationConfigSchema.safeParse({ ...base, ...a });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('reads schedule, time zone and window into the config', () => {
    const c = RotationConfigSchema.parse({
      ...base,
      'rotator.schedule': '0 2 * * 0',
      'rotator.time-zone': 'Europe/Berlin',
      'rotator.window': '3h',
    });
    expect(c.schedule).toEqual({
      expression: '0 2 * * 0',
      timeZone: 'Europe/Berlin',
      windowMs: 3 * HOUR,
    });
    expect(RotationConfigSchema.parse(base).schedule).toBeUndefined();
  });

  it.each([
    [{ 'rotator.schedule': '0 2 * *' }, /rotator\.schedule: not a 5-field cron expression/],
    [{ 'rotator.schedule': '0 0 2 * * 0' }, /rotator\.schedule: not a 5-field cron expression/],
    [{ 'rotator.schedule': '61 2 * * *' }, /rotator\.schedule: not a 5-field cron expression/],
    [
      { 'rotator.schedule': '0 2 * * *', 'rotator.time-zone': 'Mars/Olympus' },
      /time-zone: not an IANA time zone/,
    ],
    [
      { 'rotator.schedule': '0 2 * * *', 'rotator.window': '30m' },
      /window: the window must be at least 1h/,
    ],
    [{ 'rotator.schedule': '0 2 * * *', 'rotator.window': 'soon' }, /window: not a duration/],
    [{ 'rotator.time-zone': 'Europe/Berlin' }, /time-zone: needs rotator\.schedule/],
    [{ 'rotator.window': '2h' }, /window: needs rotator\.schedule/],
  ])('rejects %j', (annotations, message) => {
    expect(issues(annotations).join('\n')).toMatch(message);
  });

  it('describes a schedule in words with its zone and window', () => {
    expect(describeSchedule(sched('0 2 * * 0', 'Europe/Berlin', 3 * HOUR))).toBe(
      'At 02:00, only on Sunday (Europe/Berlin), window 3h',
    );
  });

  it('writes RFC 3339 with the offset the zone has at that instant', () => {
    expect(rfc3339InZone(at('2026-07-01T00:00:00Z'), 'America/New_York')).toBe(
      '2026-06-30T20:00:00-04:00',
    );
    expect(rfc3339InZone(at('2026-07-01T00:00:00Z'), 'UTC')).toBe('2026-07-01T00:00:00+00:00');
    expect(rfc3339InZone(at('2026-07-01T00:00:00Z'), 'Asia/Kolkata')).toBe(
      '2026-07-01T05:30:00+05:30',
    );
  });
});
