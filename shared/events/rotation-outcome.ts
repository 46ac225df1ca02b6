import { z } from 'zod';
import { STRATEGIES } from '../config/rotation-config';
import { ENGINE_NAMES } from '../engines/engine';
import { OUTCOMES, STEPS, TRIGGERS } from '../rotation/state';
import { InvalidEventError } from './pubsub-cloud-event';

/**
 * The rotation-events message: what happened, never a value. Shared by rotateSecret (publisher),
 * refreshConsumers and the CLI (readers). Versions are numbers as strings, like Secret Manager's.
 */
export const ROTATION_OUTCOME_SCHEMA = 'gsm-rotator.rotation-outcome/v1';

export const RotationOutcomeSchema = z.object({
  schema: z.literal(ROTATION_OUTCOME_SCHEMA),
  rotationId: z.string().min(1),
  secret: z.string().min(1),
  outcome: z.enum(OUTCOMES),
  engine: z.enum(ENGINE_NAMES),
  strategy: z.enum(STRATEGIES),
  trigger: z.enum(TRIGGERS),
  requestedBy: z.string().optional(),
  /** `current` before the rotation. */
  previousVersion: z.string(),
  /** `current` after it (absent when nothing was promoted). */
  newVersion: z.string().optional(),
  startedAt: z.string(),
  completedAt: z.string(),
  durationMs: z.number(),
  stepMs: z.partialRecord(z.enum(STEPS), z.number()),
  attempts: z.number().int(),
  error: z.string().optional(),
});
export type RotationOutcome = z.output<typeof RotationOutcomeSchema>;

export const ROTATION_EVENT_TYPES = {
  succeeded: 'ROTATION_SUCCEEDED',
  failed: 'ROTATION_FAILED',
} as const;

export function outcomeAttributes(o: RotationOutcome): Record<string, string> {
  return {
    eventType: ROTATION_EVENT_TYPES[o.outcome],
    secretId: o.secret,
    rotationId: o.rotationId,
  };
}

/** A rotation-events message body as a RotationOutcome; anything else is an InvalidEventError. */
export function parseRotationOutcome(body: string): RotationOutcome {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new InvalidEventError('rotation event body is not JSON');
  }
  const parsed = RotationOutcomeSchema.safeParse(json);
  if (!parsed.success) throw new InvalidEventError('not a rotation outcome message');
  return parsed.data;
}
