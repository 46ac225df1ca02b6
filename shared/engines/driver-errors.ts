import { PermanentError, type RotatorError, TransientError } from '../errors';

/**
 * Driver errors, reduced to what is safe to keep and classified for the function boundary.
 * A failed statement that carried a password (ALTER ROLE … PASSWORD, ALTER USER … IDENTIFIED BY)
 * must not leak it: mysql2 attaches the full SQL to its errors (`sql`), and servers echo part of a
 * statement in syntax errors. Such errors keep only their codes; the original is dropped.
 */
export interface DriverErrorFacts {
  /** Driver or SQLSTATE code (`28P01`, `ER_ACCESS_DENIED_ERROR`, `ECONNREFUSED`). */
  code?: string;
  /** MySQL/MariaDB numeric error. */
  errno?: number;
  sqlState?: string;
  message: string;
}

export function driverFacts(err: unknown): DriverErrorFacts {
  const e = (err ?? {}) as {
    code?: unknown;
    errno?: unknown;
    sqlState?: unknown;
    message?: unknown;
  };
  return {
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.errno === 'number' ? { errno: e.errno } : {}),
    ...(typeof e.sqlState === 'string' ? { sqlState: e.sqlState } : {}),
    message: typeof e.message === 'string' ? e.message : String(err),
  };
}

export type Classification = 'transient' | 'permanent';

export interface FailureOptions {
  /** The statement carried a secret: keep codes only, never the driver's text. */
  carriesSecret?: boolean;
}

/**
 * Wrap a driver error: message `<engine>: <action> failed (<code>)`, plus the server's own message
 * when the statement carried no secret; the code is left out of the parentheses when that message
 * already names it (Node's "connect ECONNREFUSED 127.0.0.1:5432"), so the cause reads once. The cause is a fresh Error holding the codes only.
 */
export function driverFailure(
  engine: string,
  action: string,
  err: unknown,
  classification: Classification,
  options: FailureOptions = {},
): RotatorError {
  const facts = driverFacts(err);
  const code = facts.code ?? facts.sqlState ?? 'unknown';
  const detail = options.carriesSecret ? '' : `: ${facts.message}`;
  const cause = Object.assign(new Error(`driver error ${code}`), {
    code,
    ...(facts.errno === undefined ? {} : { errno: facts.errno }),
  });
  const tag = detail.includes(code) ? '' : ` (${code})`;
  const message = `${engine}: ${action} failed${tag}${detail}`;
  const context = {
    engine,
    action,
    code,
    ...(facts.errno === undefined ? {} : { errno: facts.errno }),
  };
  return classification === 'transient'
    ? new TransientError(message, { cause, context })
    : new PermanentError(message, { cause, context });
}

/** Network-level failures shared by both drivers: the database may come back. */
export const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/**
 * Concurrency conflicts: another session changed or locked the same row (two workers both reaching
 * ALTER ROLE on one login during a takeover, a lock wait cut short). A retry on fresh state simply
 * succeeds, so these are transient on every engine.
 * - PostgreSQL: 40001 serialization_failure, 40P01 deadlock_detected, 55P03 lock_not_available,
 *   and XX000 "tuple concurrently updated/deleted", which catalog updates (ALTER ROLE) raise when
 *   a concurrent transaction changed the same pg_authid row (simple_heap_update in heapam.c).
 * - MySQL/MariaDB: 1205 ER_LOCK_WAIT_TIMEOUT, 1213 ER_LOCK_DEADLOCK, 1020 ER_CHECKREAD (record
 *   changed since last read), 1614 ER_XA_RBDEADLOCK, 3572 ER_LOCK_NOWAIT (MySQL 8).
 */
export function isConcurrencyConflict(facts: DriverErrorFacts): boolean {
  if (facts.code !== undefined && PG_CONCURRENCY_STATES.has(facts.code)) return true;
  if (facts.code === 'XX000' && /concurrently (updated|deleted)/.test(facts.message)) return true;
  return facts.errno !== undefined && MYSQL_CONCURRENCY_ERRNOS.has(facts.errno);
}

const PG_CONCURRENCY_STATES = new Set(['40001', '40P01', '55P03']);
const MYSQL_CONCURRENCY_ERRNOS = new Set([1020, 1205, 1213, 1614, 3572]);

/** Race `promise` against a timer; the timer's expiry is a TransientError. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TransientError(`${what} timed out after ${ms} ms`, { context: { ms } })),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
