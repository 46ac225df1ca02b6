import { z } from 'zod';
import { TransientError } from '../../errors';

const ClaimsSchema = z.object({ exp: z.number() });

/**
 * The `exp` claim of a JWT, in milliseconds. The signature is not checked: the token came straight
 * from Google over TLS, and Databricks is the party that verifies it. Errors never quote the token.
 * A token that is not a JWT with a numeric `exp` is Google's answer gone wrong, not the event's or
 * the deployment's: TransientError, so the delivery is retried (bounded by the attempt count).
 */
export function jwtExpiryMs(token: string): number {
  const payload = token.split('.')[1];
  if (!payload) throw new TransientError('ID token is not a JWT');
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new TransientError('ID token payload is not JSON');
  }
  const parsed = ClaimsSchema.safeParse(claims);
  if (!parsed.success) throw new TransientError('ID token has no numeric exp claim');
  return parsed.data.exp * 1000;
}
