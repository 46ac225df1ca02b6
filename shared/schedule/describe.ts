import cronstrue from 'cronstrue';
import { formatDuration } from '../config/duration';
import type { Schedule } from './schedule';

/**
 * A schedule in words for operators, e.g. "At 02:00, only on Sunday (Europe/Berlin), window 3h".
 * The words are cronstrue's (github.com/bradymholt/cRonstrue, no dependencies).
 */
export function describeSchedule(schedule: Schedule): string {
  const words = cronstrue.toString(schedule.expression, {
    use24HourTimeFormat: true,
    throwExceptionOnParseError: false,
  });
  return `${words} (${schedule.timeZone}), window ${formatDuration(schedule.windowMs)}`;
}

function parts(ms: number, timeZone: string, timeZoneName: 'longOffset' | 'short') {
  const out: Record<string, string> = {};
  for (const p of new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName,
  }).formatToParts(new Date(ms))) {
    out[p.type] = p.value;
  }
  return out;
}

/** RFC 3339 with the zone's offset at that instant: `2026-12-06T02:00:00+01:00`. */
export function rfc3339InZone(ms: number, timeZone: string): string {
  const p = parts(ms, timeZone, 'longOffset');
  // "GMT+01:00", or "GMT" for a zero offset.
  const offset = (p.timeZoneName ?? 'GMT').replace('GMT', '') || '+00:00';
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${offset}`;
}

/** For tables: `2026-12-06 02:00 GMT+1` (the zone's local wall time and its abbreviation). */
export function wallTimeInZone(ms: number, timeZone: string): string {
  const p = parts(ms, timeZone, 'short');
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${p.timeZoneName ?? timeZone}`;
}
