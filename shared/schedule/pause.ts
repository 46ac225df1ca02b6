import { z } from 'zod';
import { STATE_KEYS } from '../config/annotations';

/**
 * A paused secret (annotation `rotator.pause`, JSON, written by `gsm-rotator pause` with the
 * Secret's etag): scheduled notifications are acknowledged and nothing rotates; on-demand and
 * emergency requests still do. `by` is what the operator's CLI claimed (its --by or $USER), not
 * an authority: who may pause is whoever IAM lets update the Secret, and Cloud Audit Logs record
 * the real caller of that UpdateSecret.
 */
export const PauseSchema = z.object({
  by: z.string().min(1).max(200),
  /** When it was paused (ms since the epoch). */
  at: z.number(),
  reason: z.string().min(1).max(500),
});
export type Pause = z.output<typeof PauseSchema>;

/** The pause of a secret, or undefined. An unreadable value counts as paused: it was meant to be. */
export function readPause(annotations: Record<string, string>): Pause | undefined {
  const raw = annotations[STATE_KEYS.pause];
  if (raw === undefined) return undefined;
  try {
    return PauseSchema.parse(JSON.parse(raw));
  } catch {
    return { by: 'unknown', at: 0, reason: `unreadable ${STATE_KEYS.pause} annotation` };
  }
}

/** The annotations with the pause set (or removed, with undefined). */
export function withPause(
  annotations: Record<string, string>,
  pause: Pause | undefined,
): Record<string, string> {
  const { [STATE_KEYS.pause]: _old, ...rest } = annotations;
  return pause === undefined ? rest : { ...rest, [STATE_KEYS.pause]: JSON.stringify(pause) };
}
