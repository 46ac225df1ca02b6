import { z } from 'zod';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Durations as operators write them in annotations and environment variables: `90s`, `30m`, `24h`,
 * `7d`, or a plain number of seconds. Parsed to milliseconds.
 */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d{1,9})\s*([smhd]?)\s*$/.exec(text);
  if (!m?.[1]) return undefined;
  const unit = (m[2] || 's') as keyof typeof UNIT_MS;
  return Number(m[1]) * UNIT_MS[unit];
}

export const DurationSchema = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a duration (e.g. 90s, 30m, 24h, 7d): ${text}` });
    return z.NEVER;
  }
  return ms;
});

export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}
