import { z } from 'zod';
import type { Credential, Endpoint, EngineName } from '../engines/engine';
import { IDENTIFIER_PATTERN } from '../engines/identifiers';

/**
 * The JSON a managed secret version holds: everything a consumer needs to connect. Unknown keys
 * are kept (a JDBC URL without the password, an sslmode…) and copied to each new version; only
 * `username` and `password` change. Never put the password into another field: it would survive
 * rotation.
 *
 * The schema validates and never transforms (no coercion, no defaults, no trimming): a payload is
 * used as it was read (see `parsePayload` in shared/rotation/steps.ts), so every field the rotator
 * does not own keeps its JSON type, value and position in the next version (a `"5432"` string port
 * stays a string).
 */
export const DatabasePayloadSchema = z
  .object({
    host: z.string().min(1).max(255).optional(),
    // A number, or a string of digits (consumers that read the port as text): kept as given.
    port: z
      .union([
        z.number().int().min(1).max(65535),
        z
          .string()
          .regex(/^[1-9][0-9]{0,4}$/, 'a port number')
          .refine((t) => Number(t) <= 65535, 'a port number'),
      ])
      .optional(),
    cloudSqlInstance: z
      .string()
      .regex(
        /^([a-z0-9.-]+:)?[a-z0-9-]+:[a-z0-9-]+:[a-z0-9-]+$/,
        '[domain:]project:region:instance',
      )
      .optional(),
    // Checked again by the engines before any SQL; refused here so a hostile payload costs one
    // log line and no state change.
    database: z.string().min(1).max(64).regex(IDENTIFIER_PATTERN, 'letters, digits, _ and -'),
    username: z.string().min(1).max(80).regex(IDENTIFIER_PATTERN, 'letters, digits, _ and -'),
    password: z.string().min(1).max(1024),
    ssl: z.boolean().optional(),
  })
  .loose()
  .refine((p) => (p.host !== undefined) !== (p.cloudSqlInstance !== undefined), {
    message: 'exactly one of host or cloudSqlInstance',
  });

export type DatabasePayload = z.output<typeof DatabasePayloadSchema>;

/** The port as a number, whichever JSON type the payload gives it (undefined: the default). */
export const portOf = (p: DatabasePayload): number | undefined =>
  p.port === undefined ? undefined : Number(p.port);

export function endpointOf(p: DatabasePayload): Endpoint {
  const port = portOf(p);
  return {
    database: p.database,
    ...(p.host === undefined ? {} : { host: p.host }),
    ...(port === undefined ? {} : { port }),
    ...(p.cloudSqlInstance === undefined ? {} : { cloudSqlInstance: p.cloudSqlInstance }),
    ...(p.ssl === undefined ? {} : { ssl: p.ssl }),
  };
}

export const credentialOf = (p: DatabasePayload): Credential => ({
  username: p.username,
  password: p.password,
});

/**
 * The port each engine's driver connects to when a payload names none (PostgreSQL 5432, MySQL and
 * MariaDB 3306: the servers' documented defaults, which the engines use too).
 */
export const DEFAULT_PORTS: Readonly<Record<EngineName, number>> = {
  postgres: 5432,
  mysql: 3306,
  mariadb: 3306,
};

/** `Db.Example.COM.` → `db.example.com`: DNS names are case-insensitive; one root dot is noise. */
const hostKey = (host: string) => host.toLowerCase().replace(/\.$/, '');

/**
 * Whether two payloads name the same database server: the same Cloud SQL instance, or the same
 * host (case-insensitive, one trailing dot ignored) and port (a missing port is the engine's
 * default). The confused-deputy guard between an admin secret and the secrets it serves.
 */
export function sameServer(a: DatabasePayload, b: DatabasePayload, engine: EngineName): boolean {
  if (a.cloudSqlInstance !== undefined || b.cloudSqlInstance !== undefined) {
    return a.cloudSqlInstance === b.cloudSqlInstance;
  }
  const port = (p: DatabasePayload) => portOf(p) ?? DEFAULT_PORTS[engine];
  return (
    a.host !== undefined &&
    b.host !== undefined &&
    hostKey(a.host) === hostKey(b.host) &&
    port(a) === port(b)
  );
}
