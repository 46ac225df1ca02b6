import { z } from 'zod';
import { STATE_KEYS } from '../config/annotations';

/**
 * What refreshConsumers recorded for the last rotation (annotation `rotator.refresh`): per
 * Databricks target, done / skipped / failed. Retirement of `previous` waits until every
 * configured target of the rotation that promoted `current` is done or skipped (up to the
 * maximum grace). Reasons never carry values.
 */
export const RefreshTargetRecordSchema = z.object({
  id: z.string(),
  kind: z.string(),
  status: z.enum(['done', 'skipped', 'failed']),
  reason: z.string().max(300).optional(),
});

export const RefreshRecordSchema = z.object({
  rotationId: z.string(),
  version: z.number().int(),
  updatedAt: z.number(),
  targets: z.array(RefreshTargetRecordSchema),
});
export type RefreshRecord = z.output<typeof RefreshRecordSchema>;

export function readRefreshRecord(annotations: Record<string, string>): RefreshRecord | undefined {
  const raw = annotations[STATE_KEYS.refresh];
  if (!raw) return undefined;
  try {
    return RefreshRecordSchema.parse(JSON.parse(raw));
  } catch {
    return undefined;
  }
}
