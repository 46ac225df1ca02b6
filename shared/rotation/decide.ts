import type { RotationRequest } from '../events/rotation-request';
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
  | { action: 'resume-unresolved' };

export function decide(
  state: RotationState,
  request: RotationRequest,
  now: number,
  maxAttempts: number,
): Decision {
  const r = state.rotation;
  if (state.status === 'rotating' && r) {
    if (r.leaseUntil > now) return { action: 'busy', leaseUntil: r.leaseUntil };
    // A decided failure only needs its clean-up and announcement finished.
    if (r.outcome === 'failed') return { action: 'takeover' };
    return r.attempt >= maxAttempts ? { action: 'exhausted' } : { action: 'takeover' };
  }
  if (state.lastStartedAt !== undefined && request.requestedAt <= state.lastStartedAt) {
    return { action: 'stale' };
  }
  // Retirement is revoking `previous`; with alternating users that login may be the next pending
  // one, so the two must not interleave.
  if (state.retiring && state.retiring.leaseUntil > now) {
    return { action: 'busy', leaseUntil: state.retiring.leaseUntil };
  }
  if (state.status === 'failed' && r?.unresolved) return { action: 'resume-unresolved' };
  return { action: 'start' };
}
