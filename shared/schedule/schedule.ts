import { Cron } from 'croner';
import { z } from 'zod';
import { CONFIG_KEYS } from '../config/annotations';
import { DurationSchema } from '../config/duration';

/**
 * A secret's rotation schedule: a 5-field cron expression read in an IANA time zone, and a window
 * after each scheduled time in which a rotation may still start (annotations `rotator.schedule`,
 * `rotator.time-zone`, `rotator.window`). Times are milliseconds since the epoch.
 *
 * Cron arithmetic is croner's (github.com/Hexagon/croner, no dependencies, Node >= 18): on a
 * daylight-saving change a time in the skipped hour runs at the first valid time after the gap,
 * and a time that occurs twice runs once (its first occurrence); patterns with wildcards in the
 * hour ("every 30 minutes") run on every real occurrence. Day-of-month and day-of-week combine
 * with OR, as in Vixie cron. test/unit/schedule proves these across two time zones.
 */
export interface Schedule {
  expression: string;
  timeZone: string;
  windowMs: number;
}

export const DEFAULT_TIME_ZONE = 'UTC';
export const DEFAULT_WINDOW = '1h';
/** Vault's minimum rotation window; shorter ones would defer on an ordinary delivery delay. */
export const MIN_WINDOW_MS = 3_600_000;
export const MAX_WINDOW_MS = 31 * 86_400_000;

/** Whether the runtime knows this IANA zone name (Node's ICU: Europe/Berlin, UTC, ...). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const cronFor = (expression: string, timeZone: string) =>
  new Cron(expression, { timezone: timeZone, mode: '5-part', paused: true });

/** The first problem with a cron expression, or undefined when croner accepts it. */
export function cronProblem(expression: string): string | undefined {
  try {
    cronFor(expression, DEFAULT_TIME_ZONE);
    return undefined;
  } catch (err) {
    return (err as Error).message.replace(/^CronPattern: /, '');
  }
}

const CRON = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .superRefine((text, ctx) => {
    const problem = cronProblem(text);
    if (problem)
      ctx.addIssue({ code: 'custom', message: `not a 5-field cron expression: ${problem}` });
  });

const TIME_ZONE = z
  .string()
  .max(64)
  .refine(isTimeZone, 'not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)');

const WINDOW = DurationSchema.pipe(
  z
    .number()
    .min(MIN_WINDOW_MS, 'the window must be at least 1h')
    .max(MAX_WINDOW_MS, 'the window must be at most 31d'),
);

/** The schedule keys, for the annotation schemas (rotation-config.ts spreads them into its own). */
export const SCHEDULE_FIELDS = {
  [CONFIG_KEYS.schedule]: CRON.optional(),
  [CONFIG_KEYS.timeZone]: TIME_ZONE.optional(),
  [CONFIG_KEYS.window]: WINDOW.optional(),
};
type ScheduleFields = z.output<z.ZodObject<typeof SCHEDULE_FIELDS>>;

/** A time zone or window without a schedule is an error: it would silently do nothing. */
export function requireScheduleForItsOptions(a: ScheduleFields, ctx: z.RefinementCtx): void {
  if (a[CONFIG_KEYS.schedule] !== undefined) return;
  for (const key of [CONFIG_KEYS.timeZone, CONFIG_KEYS.window] as const) {
    if (a[key] !== undefined) {
      ctx.addIssue({ code: 'custom', path: [key], message: `needs ${CONFIG_KEYS.schedule}` });
    }
  }
}

/** The Schedule the keys describe (UTC and a 1 h window by default), or undefined without one. */
export function scheduleFrom(a: ScheduleFields): Schedule | undefined {
  const expression = a[CONFIG_KEYS.schedule];
  if (expression === undefined) return undefined;
  return {
    expression,
    timeZone: a[CONFIG_KEYS.timeZone] ?? DEFAULT_TIME_ZONE,
    windowMs: a[CONFIG_KEYS.window] ?? MIN_WINDOW_MS,
  };
}

/** The schedule keys of a secret's annotations (other keys pass through untouched). */
export const ScheduleAnnotationsSchema = z
  .object(SCHEDULE_FIELDS)
  .superRefine(requireScheduleForItsOptions)
  .transform(scheduleFrom);

/** The schedule of a secret, or undefined when it has none or it is invalid (readConfig says why). */
export function readSchedule(annotations: Record<string, string>): Schedule | undefined {
  const parsed = ScheduleAnnotationsSchema.safeParse(annotations);
  return parsed.success ? parsed.data : undefined;
}

/** The next `count` scheduled times strictly after `after`. */
export function nextTimes(schedule: Schedule, after: number, count: number): number[] {
  return cronFor(schedule.expression, schedule.timeZone)
    .nextRuns(count, new Date(after))
    .map((d) => d.getTime());
}

/** The first scheduled time strictly after `after` (undefined: the expression never fires again). */
export const nextTime = (schedule: Schedule, after: number): number | undefined =>
  nextTimes(schedule, after, 1)[0];

/** The latest scheduled time at or before `atOrBefore`. */
export function previousTime(schedule: Schedule, atOrBefore: number): number | undefined {
  // croner includes a run in the same second as the reference; +1 s makes "at" inclusive too.
  return cronFor(schedule.expression, schedule.timeZone)
    .previousRuns(1, new Date(atOrBefore + 1000))
    .map((d) => d.getTime())
    .find((t) => t <= atOrBefore);
}

/**
 * Secret Manager refuses a `next_rotation_time` less than 300 s in the future (Rotation proto,
 * secret-manager/docs/secret-rotation); a minute more covers clock skew and the write's latency.
 */
export const MIN_LEAD_MS = 360_000;

/** The next scheduled time Secret Manager accepts as `next_rotation_time` at `now`. */
export const settableNextTime = (schedule: Schedule, now: number): number | undefined =>
  nextTime(schedule, now + MIN_LEAD_MS - 1);

/**
 * The window a notification belongs to: the scheduled time it was sent for (the latest one at or
 * before the notification's own timestamp, allowing `skewMs` for a notification stamped a moment
 * early) and when its window closes.
 */
export function windowOf(
  schedule: Schedule,
  notifiedAt: number,
  skewMs = 60_000,
): { scheduledAt: number; closesAt: number } | undefined {
  const scheduledAt = previousTime(schedule, notifiedAt + skewMs);
  return scheduledAt === undefined
    ? undefined
    : { scheduledAt, closesAt: scheduledAt + schedule.windowMs };
}
