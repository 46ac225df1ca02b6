import { z } from 'zod';
import { PermanentError } from '../errors';

const PayloadObjectSchema = z.record(z.string(), z.unknown());

/**
 * Fields of a secret payload, which is a JSON object (username, password, ...). Errors name the
 * field, never a value.
 */
export function payloadField(payload: string, field: string): string {
  let document: unknown;
  try {
    document = JSON.parse(payload);
  } catch {
    throw new PermanentError('the secret payload is not JSON', { context: { field } });
  }
  const parsed = PayloadObjectSchema.safeParse(document);
  if (!parsed.success) {
    throw new PermanentError('the secret payload is not a JSON object', { context: { field } });
  }
  const value = parsed.data[field];
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw new PermanentError(`the secret payload has no string field ${field}`, {
    context: { field },
  });
}
