import { z } from 'zod';
import { STATE_KEYS } from '../config/annotations';
import type { Logger } from '../logging/logger';
import type { SecretStore } from '../secrets/secret-store';
import { updateWithRetry } from '../secrets/update-with-retry';

/** The bound on a recorded reason; longer ones are cut, after they were scrubbed. */
export const MAX_REASON_LENGTH = 300;

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
  reason: z.string().max(MAX_REASON_LENGTH).optional(),
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

/**
 * Write `record` as the secret's `rotator.refresh`, compare-and-swap with retries. A newer
 * rotation's record is never overwritten by an older one (then nothing is written, INFO).
 */
export async function writeRefreshRecord(
  store: SecretStore,
  secret: string,
  record: RefreshRecord,
  log: Logger,
): Promise<void> {
  await updateWithRetry(store, secret, (snapshot) => {
    const existing = readRefreshRecord(snapshot.annotations);
    if (existing && existing.version > record.version) {
      log.info('a newer refresh record exists: keeping it', { event: 'refresh.superseded' });
      return undefined;
    }
    return {
      annotations: { ...snapshot.annotations, [STATE_KEYS.refresh]: JSON.stringify(record) },
    };
  });
}
