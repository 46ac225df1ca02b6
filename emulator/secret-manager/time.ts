/**
 * Protobuf Timestamps and Durations as plain numbers. Server-made instants come from the injected
 * clock in milliseconds; client-sent ones keep their nanoseconds so they read back exactly.
 */
export interface Instant {
  seconds: number;
  nanos: number;
}

export interface Duration {
  seconds: number;
  nanos: number;
}

/** What gax and proto-loader hand over for a Timestamp or Duration (int64 as string). */
export interface ProtoTime {
  seconds?: string | number | null;
  nanos?: number | null;
}

export function instantFromMs(ms: number): Instant {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

export const instantToMs = (t: Instant): number => t.seconds * 1000 + t.nanos / 1e6;

export const durationToMs = (d: Duration): number => d.seconds * 1000 + d.nanos / 1e6;

export function fromProtoTime(t: ProtoTime): Instant {
  return { seconds: Number(t.seconds ?? 0), nanos: t.nanos ?? 0 };
}

export function toProtoTime(t: Instant | Duration): { seconds: string; nanos: number } {
  return { seconds: String(t.seconds), nanos: t.nanos };
}

export function addDuration(t: Instant, d: Duration, times = 1): Instant {
  const total = BigInt(t.seconds) * 1_000_000_000n + BigInt(t.nanos);
  const step = (BigInt(d.seconds) * 1_000_000_000n + BigInt(d.nanos)) * BigInt(times);
  const sum = total + step;
  return { seconds: Number(sum / 1_000_000_000n), nanos: Number(sum % 1_000_000_000n) };
}

const pacific = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/Los_Angeles',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
  timeZoneName: 'longOffset',
});

/**
 * The `timestamp` attribute of a notification as production writes it: RFC 3339 in Pacific time
 * with its offset and up to six fraction digits, trailing zeros dropped
 * (e.g. `2026-10-02T06:03:33.65825-07:00`).
 */
export function formatEventTimestamp(ms: number): string {
  const whole = Math.floor(ms / 1000);
  const parts = Object.fromEntries(
    pacific.formatToParts(new Date(whole * 1000)).map((p) => [p.type, p.value]),
  );
  const micros = String(Math.round((ms - whole * 1000) * 1000)).padStart(6, '0');
  const fraction = micros.replace(/0+$/, '');
  const offset = (parts.timeZoneName ?? 'GMT').replace('GMT', '') || '+00:00';
  return (
    `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}` +
    `${fraction ? `.${fraction}` : ''}${offset}`
  );
}
