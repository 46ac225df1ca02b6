import type { Deadline } from './deadline';

/**
 * What a database engine supplies to the rotation: its verbs, nothing else. The step skeleton
 * (shared/rotation) decides when to call them; the strategies decide which; engines only know how
 * to say it in their SQL dialect, with identifiers and literals quoted by the driver.
 */
export const ENGINE_NAMES = ['postgres', 'mysql', 'mariadb'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** Where the database is. Exactly one of host/port or a Cloud SQL instance connection name. */
export interface Endpoint {
  host?: string;
  port?: number;
  /** `project:region:instance`, reached through @google-cloud/cloud-sql-connector. */
  cloudSqlInstance?: string;
  database: string;
  /** Require TLS to the server (host/port only; the Cloud SQL connector always encrypts). */
  ssl?: boolean;
}

export interface Credential {
  username: string;
  password: string;
}

/** The answer of a login attempt. Anything other than these two (network, timeout) is thrown. */
export type LoginResult = { ok: true } | { ok: false; reason: 'rejected' };

/** An open session with enough rights to change logins (the admin, or a user changing itself). */
export interface AdminSession {
  /** Change a login's password (single-user; alternating when re-using the other login). */
  setPassword(username: string, password: string): Promise<void>;
  loginExists(username: string): Promise<boolean>;
  /**
   * Create `username` as a second login equivalent to `template`: PostgreSQL grants it the same
   * role memberships (the NOLOGIN owner role) and role settings; MySQL/MariaDB give it the same
   * grants and host. Used by alternating-users on first use.
   */
  createLoginLike(username: string, template: string, password: string): Promise<void>;
  /**
   * alternating-users, at every rotation that re-uses the other login: give `username` again what
   * `template` (the current login) has, so grants added to the live login since the last rotation
   * are not lost. Adds only. PostgreSQL: the template's role memberships, and membership in the
   * template itself unless that would be circular; MySQL/MariaDB: the template's grants.
   */
  syncLoginLike(username: string, template: string): Promise<void>;
  /**
   * Privilege parity, checked before promote: the first privilege `reference` has that
   * `candidate` lacks, as one line of object and privilege names (never a value), or undefined
   * when `candidate` can do everything `reference` can. PostgreSQL compares effective privileges
   * (has_*_privilege, ownership through membership, role membership) on the database, its schemas,
   * tables, views, sequences and functions; MySQL/MariaDB compare SHOW GRANTS (global, database,
   * table, column and routine privileges, roles, the default role).
   */
  privilegeGap(candidate: string, reference: string): Promise<string | undefined>;
  /**
   * dual-password: why it cannot rotate `username` here (an authentication plugin the rotator
   * cannot log in with, a password reuse policy), or undefined. Asked by `check`; `addPassword`
   * refuses with the same reason before changing anything.
   */
  dualPasswordBlocker(username: string): Promise<string | undefined>;
  /** Allow / forbid new logins of a user (alternating-users: the retired login is locked). */
  enableLogin(username: string): Promise<void>;
  disableLogin(username: string): Promise<void>;
  /**
   * dual-password: make `password` valid while `retained` stays valid too
   * (MySQL 8 RETAIN CURRENT PASSWORD; MariaDB two mysql_native_password alternatives, given
   * with PASSWORD() so that password-validation plugins accept them). Refused, before any change,
   * when `dualPasswordBlocker` names a reason; a policy refusal says which policy.
   */
  addPassword(username: string, password: string, retained: string): Promise<void>;
  /** dual-password retirement: only `keep` logs in afterwards. */
  discardOtherPasswords(username: string, keep: string): Promise<void>;
  /** Live sessions of a user, logged before revoking. */
  countSessions(username: string): Promise<number>;
  /**
   * Emergency rotation: end every live session of `username` except this one (PostgreSQL
   * pg_terminate_backend, MySQL/MariaDB KILL CONNECTION) and return how many were ended. A
   * session that ends by itself meanwhile is not counted. Needs pg_signal_backend (or membership
   * in the role) on PostgreSQL, CONNECTION_ADMIN (or SUPER) on MySQL 8 and MariaDB 10.5+.
   */
  endSessions(username: string): Promise<number>;
}

export interface SessionOptions {
  /** The caller's lease end (minus its margin): nothing may change the database after it. */
  deadline?: Deadline;
}

export interface DatabaseEngine {
  readonly name: EngineName;
  /** Whether the engine can keep two passwords on one login (dual-password strategy). */
  readonly supportsDualPassword: boolean;
  /** Longest login name the engine accepts. */
  readonly maxUsernameLength: number;
  /**
   * Log in with `credential`, run `testQuery` (default a trivial SELECT) and disconnect.
   * Returns `{ ok: false }` only when the server rejected the credential; connection failures and
   * timeouts throw TransientError; a failing test query throws PermanentError.
   */
  tryLogin(endpoint: Endpoint, credential: Credential, testQuery?: string): Promise<LoginResult>;
  /**
   * Run `fn` in a session opened with `credential`, always closing it. With `options.deadline`
   * every statement is bounded server-side to end before it, the session is ended by the server
   * if the client pauses, and no statement is sent once it has passed (DeadlinePassedError):
   * the fencing of docs/architecture.md.
   */
  withSession<T>(
    endpoint: Endpoint,
    credential: Credential,
    fn: (session: AdminSession) => Promise<T>,
    options?: SessionOptions,
  ): Promise<T>;
}
