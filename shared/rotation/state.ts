import { z } from 'zod';
import { STATE_KEYS } from '../config/annotations';

/**
 * Rotation progress, kept on the Secret itself (annotation `rotator.state`, JSON): versions carry
 * no labels or annotations, and a disabled version cannot be read, so everything the rotator needs
 * later lives here. Never a password: names, numbers and times only.
 */
export const STEPS = ['create', 'set', 'test', 'promote', 'announce'] as const;
export type StepName = (typeof STEPS)[number];

export const TRIGGERS = ['schedule', 'on-demand'] as const;
export type Trigger = (typeof TRIGGERS)[number];

export const OUTCOMES = ['succeeded', 'failed'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** A staged credential (shared/rotation/staging.ts) and the rotation that generated it. */
export const StagedRefSchema = z.object({
  secret: z.string(),
  version: z.number().int(),
  rotationId: z.string(),
});
export type StagedRefRecord = z.output<typeof StagedRefSchema>;

export const RotationRecordSchema = z.object({
  id: z.string(),
  trigger: z.enum(TRIGGERS),
  requestedBy: z.string().optional(),
  reason: z.string().optional(),
  /** When the request was made (event time); older requests than `startedAt` are stale. */
  requestedAt: z.number(),
  startedAt: z.number(),
  attempt: z.number().int(),
  /** Until when the current worker owns the rotation; a redelivery takes over only after it. */
  leaseUntil: z.number(),
  holder: z.string(),
  step: z.enum(STEPS),
  /** `current` when the rotation started, and its login. */
  baseVersion: z.number().int(),
  baseUsername: z.string(),
  /**
   * A version number no newer than any version this rotation adds to the managed secret (`current`
   * at the claim): a redelivery looks above it for the managed version of a promote that died
   * before moving `current`.
   */
  latestAtClaim: z.number().int(),
  /**
   * Digests (provenance.ts) of the passwords this rotation generated, recorded before their
   * staged version was added: only a staged version carrying one of them is ever adopted.
   */
  pendingDigests: z.array(z.string()).optional(),
  /**
   * Where the pending credential is staged. Not written by the create step itself (a write the
   * budget has no room for): every later write of the rotation carries it; a redelivery that
   * finds none searches the staging secret (staging.ts findStagedOrphan).
   */
  staged: StagedRefSchema.optional(),
  pendingUsername: z.string().optional(),
  /** Set once the outcome is decided; the announce step publishes it. */
  outcome: z.enum(OUTCOMES).optional(),
  error: z.string().optional(),
  /** The version `current` points at after the rotation (the new one, or a copy of the base). */
  resultVersion: z.number().int().optional(),
  /**
   * The rotation failed while the database could not be reached, so whether it accepted the
   * pending credential is unknown: the pending version is kept, and the next request resumes.
   */
  unresolved: z.boolean().optional(),
  stepMs: z.partialRecord(z.enum(STEPS), z.number()).default({}),
  /** An emergency rotation: `previous` is revoked at once after it, and its sessions ended. */
  emergency: z.boolean().optional(),
  /**
   * The last worker gave the lease up because Secret Manager throttled it (quota), not because
   * the rotation failed: the next takeover does not count an attempt.
   */
  throttled: z.boolean().optional(),
});
export type RotationRecord = z.output<typeof RotationRecordSchema>;

export const STATUSES = ['idle', 'rotating', 'failed'] as const;
export type Status = (typeof STATUSES)[number];

export const RotationStateSchema = z.object({
  v: z.literal(1),
  status: z.enum(STATUSES),
  /** The in-flight rotation, or the last one. */
  rotation: RotationRecordSchema.optional(),
  /** When the last rotation started: the stale-event guard. */
  lastStartedAt: z.number().optional(),
  /** When `current` was last promoted; the grace window of `previous` runs from here. */
  promotedAt: z.number().optional(),
  /**
   * The version number under which `current`'s credential was promoted (`origin`), for the
   * version `current` pointed at when this was written. A failed rotation re-adds the credential
   * under a new number; the consumers' confirmations (recorded for `origin`) still hold for it.
   */
  currentCredential: z.object({ current: z.number().int(), origin: z.number().int() }).optional(),
  /**
   * The rotation ids (one per request key) of the rotations started lately, newest first: a
   * request whose key was served is acknowledged as a duplicate, whatever its publish time.
   * Kept for SERVED_KEEP_MS, at most SERVED_LIMIT entries.
   */
  served: z.array(z.object({ id: z.string(), at: z.number() })).optional(),
  /**
   * Staged versions whose rotation is over (promoted, or rolled back so the database no longer
   * accepts them): retireVersions destroys them (shared/retirement/destroy-staged.ts) and drops
   * them from here. Never an unresolved rotation's: that may be the only copy of a live password.
   */
  stagedToDestroy: z.array(StagedRefSchema).optional(),
  /** retireVersions holds this while it revokes `previous`: no rotation starts meanwhile. */
  retiring: z
    .object({ version: z.number().int(), leaseUntil: z.number(), holder: z.string() })
    .optional(),
  /**
   * A request that had to wait for the grace window of `previous` (shared/rotation/deferred.ts):
   * carried out when retirement disables `previous`, or merged into any rotation started first.
   */
  deferred: z
    .object({
      requestKey: z.string(),
      trigger: z.enum(TRIGGERS),
      requestedAt: z.number(),
      requestedBy: z.string().optional(),
      reason: z.string().optional(),
      notBefore: z.number(),
    })
    .optional(),
});
export type RotationState = z.output<typeof RotationStateSchema>;

export const INITIAL_STATE: RotationState = { v: 1, status: 'idle' };

/** How long a served request key is remembered: longer than any client plausibly retries. */
export const SERVED_KEEP_MS = 24 * 3_600_000;
/** At most this many keys (about 50 bytes each) within the 16 KiB of annotations. */
export const SERVED_LIMIT = 50;

/** Record a started rotation's id among the served ones, forgetting the old ones. */
export function withServed(
  served: RotationState['served'],
  id: string,
  now: number,
): NonNullable<RotationState['served']> {
  return [{ id, at: now }, ...(served ?? []).filter((s) => s.id !== id)]
    .filter((s) => s.at > now - SERVED_KEEP_MS)
    .slice(0, SERVED_LIMIT);
}

export const HistoryEntrySchema = z.object({
  id: z.string(),
  /** Absent: a rotation. `rollback`: `gsm-rotator rollback` moved `current` back (rollback.ts). */
  kind: z.enum(['rotation', 'rollback']).optional(),
  trigger: z.enum(TRIGGERS),
  requestedBy: z.string().optional(),
  outcome: z.enum(OUTCOMES),
  startedAt: z.number(),
  completedAt: z.number(),
  fromVersion: z.number().int(),
  toVersion: z.number().int().optional(),
  attempts: z.number().int(),
  error: z.string().optional(),
  retiredAt: z.number().optional(),
  /** Why, as the operator said it (a rollback's --reason). */
  reason: z.string().optional(),
});
export type HistoryEntry = z.output<typeof HistoryEntrySchema>;

/** Annotations total under 16 KiB: history keeps the newest entries only. */
export const HISTORY_LIMIT = 15;

export function readState(annotations: Record<string, string>): RotationState {
  const raw = annotations[STATE_KEYS.state];
  if (!raw) return INITIAL_STATE;
  try {
    return RotationStateSchema.parse(JSON.parse(raw));
  } catch {
    // A hand-edited or foreign value must not wedge the secret: start from idle, keep the guard
    // conservative (no stale-event protection until the next rotation).
    return INITIAL_STATE;
  }
}

export function readHistory(annotations: Record<string, string>): HistoryEntry[] {
  const raw = annotations[STATE_KEYS.history];
  if (!raw) return [];
  try {
    return z.array(HistoryEntrySchema).parse(JSON.parse(raw));
  } catch {
    return [];
  }
}

export function withState(
  annotations: Record<string, string>,
  state: RotationState,
  history?: HistoryEntry[],
): Record<string, string> {
  const out: Record<string, string> = { ...annotations, [STATE_KEYS.state]: JSON.stringify(state) };
  if (history) out[STATE_KEYS.history] = JSON.stringify(history.slice(0, HISTORY_LIMIT));
  return out;
}
