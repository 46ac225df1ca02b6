import { PermanentError } from '../errors';
import { type DatabasePayload, endpointOf } from '../secrets/payload';
import { adminCredentialFor } from './admin';
import type { RotationContext } from './context';

/**
 * Invariant 10, checked by the test step before promote: with alternating-users the pending login
 * must be able to do everything the current login can (the engine's `privilegeGap`). A gap fails
 * the rotation permanently (rollback; the current login keeps working) with one line naming the
 * first missing privilege and its object; never a value. Other strategies keep the same login.
 *
 * Cost: one admin session and one catalog query (PostgreSQL) or two SHOW GRANTS (MySQL/MariaDB),
 * plus reading the admin secret.
 */
export async function proveParity(ctx: RotationContext, pending: DatabasePayload): Promise<void> {
  if (ctx.strategy.name !== 'alternating-users' || pending.username === ctx.base.username) return;
  if (ctx.config.adminSecret === 'self') return; // refused by config validation; never reached
  const admin = await adminCredentialFor(ctx);
  const gap = await ctx.engine.withSession(endpointOf(ctx.base), admin, (s) =>
    s.privilegeGap(pending.username, ctx.base.username),
  );
  if (gap !== undefined) {
    throw new PermanentError(`privilege parity: ${gap}; the rotation is rolled back`, {
      context: { check: 'privilege-parity' },
    });
  }
}
