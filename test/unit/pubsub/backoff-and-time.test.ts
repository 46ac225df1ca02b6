import { exponentialBackoffMs } from '../../../emulator/pubsub/backoff';
import { formatDate, formatTimestamp } from '../../../emulator/pubsub/rfc3339';

describe('exponentialBackoffMs', () => {
  test('starts at the minimum, doubles, and stops at the maximum', () => {
    expect([1, 2, 3, 4, 5].map((n) => exponentialBackoffMs(n, 1000, 10_000))).toEqual([
      1000, 2000, 4000, 8000, 10_000,
    ]);
    expect(exponentialBackoffMs(500, 1000, 10_000)).toBe(10_000);
    expect(exponentialBackoffMs(3, 0, 10_000)).toBe(0);
  });
});

describe('proto3-JSON timestamps', () => {
  test('use 0, 3, 6 or 9 fractional digits, as few as needed', () => {
    expect(formatTimestamp(1_700_000_000, 0)).toBe('2023-11-14T22:13:20Z');
    expect(formatTimestamp(1_700_000_000, 749_000_000)).toBe('2023-11-14T22:13:20.749Z');
    expect(formatTimestamp(1_700_000_000, 749_123_000)).toBe('2023-11-14T22:13:20.749123Z');
    expect(formatTimestamp(1_700_000_000, 749_123_456)).toBe('2023-11-14T22:13:20.749123456Z');
    expect(formatTimestamp(1_700_000_000, 5_000_000)).toBe('2023-11-14T22:13:20.005Z');
  });

  test('keep the sub-millisecond digits of the client PreciseDate', () => {
    // Shaped like @google-cloud/precise-date's PreciseDate, which the client hands out.
    class PreciseDate extends Date {
      getMicroseconds = () => 234;
      getNanoseconds = () => 567;
    }
    expect(formatDate(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)))).toBe(
      '2026-01-02T03:04:05.678Z',
    );
    expect(formatDate(new PreciseDate(1_700_000_000_001))).toBe('2023-11-14T22:13:20.001234567Z');
  });
});
