import { z } from 'zod';

const ClaimsSchema = z.object({ exp: z.number() });

/**
 * The `exp` claim of a JWT, in milliseconds. The signature is not checked: the token came straight
 * from Google over TLS, and Databricks is the party that verifies it. Errors never quote the token.
 */
export function jwtExpiryMs(token: string): number {
  const payload = token.split('.')[1];
  if (!payload) throw new Error('ID token is not a JWT');
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new Error('ID token payload is not JSON');
  }
  const parsed = ClaimsSchema.safeParse(claims);
  if (!parsed.success) throw new Error('ID token has no numeric exp claim');
  return parsed.data.exp * 1000;
}
