import { TransientError } from '../errors';

/**
 * The point in time after which a session must not change the database any more: the end of the
 * caller's lease, minus a margin (docs/architecture.md, "Fencing"). `at` and `now` use the same
 * clock (the worker's), so a fake clock in tests stays consistent.
 */
export interface Deadline {
  /** Epoch ms on `now`'s clock. */
  at: number;
  now: () => number;
}

/** The deadline passed before a statement was sent: nothing was sent, the lease is over. */
export class DeadlinePassedError extends TransientError {
  constructor(what: string) {
    super(`${what}: the lease deadline passed; statement not sent`);
    this.name = 'DeadlinePassedError';
  }
}

/** Below this a statement is not worth sending: it could not finish before the deadline. */
export const MIN_STATEMENT_MS = 100;

/**
 * How long a session may stay idle (between our statements) before the server ends it. The
 * server-side idle bound is what makes a paused client harmless: after a pause longer than this,
 * its next statement meets a closed session. A fraction of the time left, within [min, 5 s]: far
 * above the microseconds between our statements, far below any lease.
 */
export function idleBoundMs(deadline: Deadline, minMs: number): number {
  const left = deadline.at - deadline.now();
  return Math.max(minMs, Math.min(5_000, Math.floor(left / 8)));
}

/**
 * The server-side bound for the next statement: what is left before the deadline after `gaps`
 * idle gaps of at most `idleMs` each (a client pause between our check and the statement reaching
 * the server), capped at the engine's default. Throws DeadlinePassedError when too little is left,
 * so a late worker sends nothing.
 */
export function statementBudgetMs(
  deadline: Deadline,
  idleMs: number,
  gaps: number,
  defaultMs: number,
  what: string,
): number {
  const budget = deadline.at - deadline.now() - gaps * idleMs;
  if (budget < MIN_STATEMENT_MS) throw new DeadlinePassedError(what);
  return Math.min(defaultMs, Math.floor(budget));
}

/**
 * MySQL/MariaDB: lock waits are bounded in whole seconds (`lock_wait_timeout` for metadata and
 * table locks, `innodb_lock_wait_timeout` for rows), never above what is left.
 */
const lockSeconds = (ms: number) => Math.max(1, Math.floor(ms / 1000));

/**
 * MariaDB: one round trip, `SET STATEMENT … FOR <statement>`: `max_statement_time` (seconds,
 * fractional; every statement, lock waits included) and the lock waits, for this statement only.
 * `ms` comes from statementBudgetMs (a positive integer), never from input.
 */
export function mariadbBoundedSql(sql: string, ms: number): string {
  const s = lockSeconds(ms);
  return `SET STATEMENT max_statement_time=${(ms / 1000).toFixed(3)}, lock_wait_timeout=${s}, innodb_lock_wait_timeout=${s} FOR ${sql}`;
}

/**
 * MySQL 8 has no SET STATEMENT and no server-side bound on DDL time (`max_execution_time` is for
 * SELECT only): the lock waits are set before the statement, in seconds, so a budget under one
 * second is not enough to send anything.
 */
export function mysqlBoundsSql(ms: number, what: string): string {
  if (ms < 1000) throw new DeadlinePassedError(what);
  const s = lockSeconds(ms);
  return `SET SESSION lock_wait_timeout = ${s}, innodb_lock_wait_timeout = ${s}, max_execution_time = ${ms}`;
}
