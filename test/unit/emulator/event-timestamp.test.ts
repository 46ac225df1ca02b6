import { formatEventTimestamp } from '../../../emulator/secret-manager/time';

describe('notification timestamp attribute', () => {
  it.each([
    ['2026-10-02T13:02:50.882Z', '2026-10-02T06:02:50.882-07:00'],
    ['2026-10-02T13:02:50.000Z', '2026-10-02T06:02:50-07:00'],
    ['2026-12-01T08:00:00.120Z', '2026-12-01T00:00:00.12-08:00'],
  ])('%s is written in Pacific time with its offset: %s', (utc, expected) => {
    expect(formatEventTimestamp(Date.parse(utc))).toBe(expected);
    expect(Date.parse(expected)).toBe(Date.parse(utc));
  });
});
