import { z } from 'zod';
import { invalidArgument } from './errors';

/** google.protobuf.Duration as proto-loader hands it over (int64 seconds as a string). */
export interface ProtoDuration {
  seconds?: string | number | null;
  nanos?: number | null;
}

const durationSchema = z.object({
  seconds: z.union([z.string().regex(/^-?\d+$/), z.number().int()]).nullish(),
  nanos: z.number().int().nullish(),
});

export function durationToMs(duration: unknown, field: string): number {
  const parsed = durationSchema.safeParse(duration);
  if (!parsed.success) throw invalidArgument(`Invalid duration for ${field}`);
  return Number(parsed.data.seconds ?? 0) * 1000 + Math.floor((parsed.data.nanos ?? 0) / 1e6);
}

export function msToDuration(ms: number): { seconds: string; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1e6 };
}
