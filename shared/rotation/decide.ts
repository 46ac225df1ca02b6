import type { RotationRequest } from '../events/rotation-request';
import type { PreviousHold } from '../retirement/plan';
import type { RotationState } from './state';

/**
 * What a delivery of a rotation request should do, from the Secret's state alone. Pure, so every
 * branch is unit-tested; the rotator carries the decision out with compare-and-swap writes, and a
 * lost race simply decides again on fresh state.
 */
export type Decision =
  /** Nothing to do: a rotation started after this request was made. */
  | { action: 'stale' }
  /** Another worker holds a live lease: retry later (transient). */
  | { action: 'busy'; leaseUntil: number }
  /** Start a new rotation. */
  | { action: 'start' }
  /** A rotation whose worker died or gave up its lease: take it over and resume. */
  | { action: 'takeover' }
  /** The in-flight rotation used up its attempts: fail it cleanly. */
  | { action: 'exhausted' }
  /** The last rotation failed with the database state unknown: resume it with fresh attempts. */
  | { action: 'resume-unresolved' }
  /**
   * `previous` is within its grace window (or waiting for consumers): starting now would revoke a
   * credential unrefreshed consumers still hold. Wait until `until` (an expected wait, INFO).
   */
  | { action: 'wait'; until: number; why: string }
  /** `previous` may go now (every consumer confirmed, or it is due): retire it, then rotate. */
  | { action: 'retire-first' }
  /**
   * A redelivery of an emergency request whose rotation completed but whose `previous` is still
   * there (the worker died before revoking it): finish the revoke now.
   */
  | { action: 'emergency-revoke' };

/**
 * `hold` is what the grace rule says about `previous` (shared/retirement/plan.ts previousHold);
 * `rotationId` the id this request's own rotation has.
 */
export function decide(
  state: RotationState,
  request: RotationRequest,
  now: number,
  maxAttempts: number,
  hold: PreviousHold = { kind: 'none' },
  rotationId?: string,
): Decision {
  const r = state.rotation;
  if (state.status === 'rotating' && r) {
    if (r.leaseUntil > now) return { action: 'busy', leaseUntil: r.leaseUntil };
    // A decided failure only needs its clean-up and announcement finished.
    if (r.outcome === 'failed') return { action: 'takeover' };
    return r.attempt >= maxAttempts ? { action: 'exhausted' } : { action: 'takeover' };
  }
  if (state.lastStartedAt !== undefined && request.requestedAt <= state.lastStartedAt) {
    if (
      request.emergency &&
      r?.id === rotationId &&
      r?.emergency &&
      r.outcome === 'succeeded' &&
      hold.kind !== 'none'
    ) {
      return { action: 'emergency-revoke' };
    }
    return { action: 'stale' };
  }
  // Retirement is revoking `previous`; with alternating users that login may be the next pending
  // one, so the two must not interleave.
  if (state.retiring && state.retiring.leaseUntil > now) {
    return { action: 'busy', leaseUntil: state.retiring.leaseUntil };
  }
  if (state.status === 'failed' && r?.unresolved) return { action: 'resume-unresolved' };
  // The grace window is a promise (invariant 4); a leak (emergency) is the one reason to break it.
  if (!request.emergency && hold.kind === 'held') {
    return hold.allConfirmed
      ? { action: 'retire-first' }
      : { action: 'wait', until: hold.until, why: hold.why };
  }
  if (!request.emergency && hold.kind === 'due') return { action: 'retire-first' };
  return { action: 'start' };
}
