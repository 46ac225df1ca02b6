import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';

export type RandomBytes = (size: number) => Buffer;

const ITERATIONS = 4096;
const SALT_BYTES = 16;

/**
 * A SCRAM-SHA-256 verifier, in the form PostgreSQL stores in pg_authid, computed here the way
 * libpq's PQencryptPasswordConn (psql's \password) does. `ALTER ROLE … PASSWORD '<verifier>'` then
 * never carries the clear password to the server: it cannot land in the server log
 * (log_statement, or the statement echoed with an error) or in pg_stat_statements.
 * Written here because pg exposes no verifier builder; it is a dozen lines of RFC 5802/7677.
 *
 * PostgreSQL SASLprep-normalizes passwords and leaves pure ASCII untouched, so the verifier is only
 * built for ASCII passwords (returns undefined otherwise: the caller sends the password and lets
 * the server hash it).
 */
export function scramSha256Verifier(
  password: string,
  randomBytes: RandomBytes,
): string | undefined {
  if (Buffer.byteLength(password, 'utf8') !== password.length) return undefined;
  const salt = randomBytes(SALT_BYTES);
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, ITERATIONS, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
