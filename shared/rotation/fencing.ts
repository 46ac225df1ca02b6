import type { Deadline } from '../engines/deadline';
import type { RotationContext } from './context';
import { persist } from './persist';

/**
 * How much earlier than the lease end a database session must be done: covers the clock skew
 * between workers and the database server, and the server's own latency in abandoning a statement
 * (docs/architecture.md, "Fencing"). A fifth of the lease, at most 30 s.
 */
export function fenceMarginMs(leaseMs: number): number {
  return Math.min(30_000, Math.floor(leaseMs / 5));
}

/**
 * The deadline of a database session that changes logins (set, rollback). Our last
 * compare-and-swap set `leaseUntil`, and nobody takes the rotation over before it, so a session
 * that ends before `leaseUntil - margin` cannot race a successor. When less than half the lease is
 * left, the lease is re-asserted first (one CAS; it fails with ConflictError if the rotation was
 * taken), so the session gets a fresh, full budget; on a normal rotation this costs no call.
 */
export async function fencedDeadline(ctx: RotationContext): Promise<Deadline> {
  const { clock, settings } = ctx.deps;
  if (ctx.record.leaseUntil - clock.now() < settings.leaseMs / 2) await persist(ctx, {});
  return { at: ctx.record.leaseUntil - fenceMarginMs(settings.leaseMs), now: () => clock.now() };
}
