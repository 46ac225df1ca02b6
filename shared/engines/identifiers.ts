import { z } from 'zod';
import { PermanentError } from '../errors';

/**
 * Identifier validation, before any SQL is built. The drivers quote every identifier anyway; this
 * is the second fence: a login or database name that is not plain ASCII letters, digits, `_` and
 * `-` (starting with a letter or `_`) is a configuration error, never something to quote and
 * send. Rejected values are not echoed in the message (they may be hostile, or a pasted password).
 */
export const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export const IDENTIFIER_KINDS = ['username', 'database', 'role', 'setting'] as const;
export type IdentifierKind = (typeof IDENTIFIER_KINDS)[number];

const identifierSchema = (maxLength: number) =>
  z.string().min(1).max(maxLength).regex(IDENTIFIER_PATTERN);

export function validateIdentifier(
  value: unknown,
  kind: IdentifierKind,
  maxLength: number,
): string {
  const parsed = identifierSchema(maxLength).safeParse(value);
  if (!parsed.success) {
    const length = typeof value === 'string' ? value.length : undefined;
    throw new PermanentError(
      `invalid ${kind}: expected 1-${maxLength} characters of [A-Za-z0-9_-] starting with a letter or _`,
      { context: { kind, length, type: typeof value } },
    );
  }
  return parsed.data;
}

/** Passwords are quoted as literals, never validated against a pattern; only their shape is checked. */
const passwordSchema = z
  .string()
  .min(1)
  .max(1024)
  // NUL ends a C string on the server: PostgreSQL rejects it, MySQL would truncate.
  .refine((p) => !p.includes('\0'));

export function validatePassword(value: unknown): string {
  const parsed = passwordSchema.safeParse(value);
  if (!parsed.success) {
    throw new PermanentError('invalid password: expected 1-1024 characters without NUL', {
      context: { type: typeof value },
    });
  }
  return parsed.data;
}
