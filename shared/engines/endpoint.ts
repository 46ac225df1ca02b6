import { z } from 'zod';
import { PermanentError } from '../errors';
import type { Endpoint } from './engine';
import { validateIdentifier } from './identifiers';

/** Where to connect, after validation: a TCP address, or a Cloud SQL instance (never both). */
export type ResolvedEndpoint =
  | { kind: 'tcp'; host: string; port: number; database: string; ssl: boolean }
  | { kind: 'cloud-sql'; instance: string; database: string };

// `project:region:instance`; domain-scoped projects (`example.com:project`) have one more part.
export const CLOUD_SQL_INSTANCE_PATTERN = /^([a-z0-9.-]+:)?[a-z0-9-]+:[a-z0-9-]+:[a-z0-9-]+$/;

const endpointSchema = z.union([
  z.strictObject({
    host: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[A-Za-z0-9.:_-]+$/),
    port: z.number().int().min(1).max(65_535).optional(),
    cloudSqlInstance: z.undefined().optional(),
    database: z.string(),
    ssl: z.boolean().optional(),
  }),
  z.strictObject({
    host: z.undefined().optional(),
    port: z.undefined().optional(),
    cloudSqlInstance: z.string().max(300).regex(CLOUD_SQL_INSTANCE_PATTERN),
    database: z.string(),
    // The connector always encrypts; the flag is accepted and has nothing to add.
    ssl: z.boolean().optional(),
  }),
]);

export function resolveEndpoint(
  endpoint: Endpoint,
  defaults: { port: number; maxDatabaseLength: number },
): ResolvedEndpoint {
  const parsed = endpointSchema.safeParse(endpoint);
  if (!parsed.success) {
    throw new PermanentError(
      'invalid endpoint: expected host (and optional port) or cloudSqlInstance project:region:instance, not both',
    );
  }
  const e = parsed.data;
  const database = validateIdentifier(e.database, 'database', defaults.maxDatabaseLength);
  if (e.cloudSqlInstance !== undefined) {
    return { kind: 'cloud-sql', instance: e.cloudSqlInstance, database };
  }
  return {
    kind: 'tcp',
    host: e.host as string,
    port: e.port ?? defaults.port,
    database,
    ssl: e.ssl ?? false,
  };
}
