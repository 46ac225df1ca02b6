import { type ConnectionOptions, createConnection } from 'mysql2/promise';
import { PermanentError, RotatorError } from '../errors';
import { type ConnectorOptionsProvider, createCloudSqlConnectorProvider } from './cloud-sql';
import {
  type Deadline,
  idleBoundMs,
  MIN_STATEMENT_MS,
  mariadbBoundedSql,
  mysqlBoundsSql,
  statementBudgetMs,
} from './deadline';
import {
  type Classification,
  driverFacts,
  driverFailure,
  isConcurrencyConflict,
  NETWORK_CODES,
  withTimeout,
} from './driver-errors';
import { type ResolvedEndpoint, resolveEndpoint } from './endpoint';
import type { AdminSession, Credential, DatabaseEngine, Endpoint } from './engine';
import { validatePassword } from './identifiers';
import {
  type Account,
  AUTH_FACTS_SQL,
  accountLockSql,
  addPasswordSql,
  COUNT_SESSIONS_SQL,
  CURRENT_ACCOUNT_SQL,
  createUserSql,
  DEFAULT_ROLES_SQL,
  discardOtherPasswordsSql,
  dropUserSql,
  dualPasswordBlocker,
  grantGap,
  killConnectionSql,
  MAX_DATABASE_LENGTH,
  MAX_USERNAME_LENGTH,
  type MysqlDialect,
  passwordPolicyDescription,
  rewriteGrant,
  SESSION_IDS_SQL,
  SHOW_GRANTS_SQL,
  setDefaultRolesSql,
  setOwnPasswordSql,
  setPasswordSql,
  USER_HOSTS_SQL,
  validateHost,
  validateUsername,
} from './mysql-sql';
import { type LoginVerbs, tryLoginWith } from './try-login';

/** The part of a mysql2 promise connection the engine uses: a seam for unit tests. */
export interface MysqlConnectionLike {
  query(options: {
    sql: string;
    values?: unknown[];
    timeout?: number;
  }): Promise<[unknown, unknown]>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface MysqlEngineDeps {
  dialect: MysqlDialect;
  /** Bound on connecting and authenticating (default 5 s). */
  connectTimeoutMs?: number;
  /** Client-side bound on every statement (default 30 s). */
  statementTimeoutMs?: number;
  /** Cloud SQL seam; the official connector is created lazily when none is given. */
  connector?: ConnectorOptionsProvider;
  createConnection?: (config: ConnectionOptions) => Promise<MysqlConnectionLike>;
}

const DEFAULT_PORT = 3306;

// ER_CANNOT_USER (MariaDB's answer when a validation plugin refuses), ER_NOT_VALID_PASSWORD (MySQL's
// validate_password), ER_CREDENTIALS_CONTRADICT_TO_HISTORY: the server's password policy said no.
const POLICY_REFUSED = new Set([1396, 1819, 3638]);

// ER_ACCESS_DENIED_ERROR, ER_ACCESS_DENIED_NO_PASSWORD_ERROR, and the locked-account errors
// (MySQL ER_ACCOUNT_HAS_BEEN_LOCKED 3118, MariaDB's 4151, which mysql2 names after another error).
const AUTH_REJECTED: Record<MysqlDialect, Set<number>> = {
  mysql: new Set([1045, 1698, 3118]),
  mariadb: new Set([1045, 1698, 4151]),
};

// Too many connections, shutdown in progress, lock wait / deadlock, interrupted or timed-out
// statements, connection killed: the server may serve the next attempt.
const TRANSIENT_ERRNOS = new Set([
  1040, 1053, 1205, 1213, 1317, 1927, 1969, 3024, 2002, 2003, 2006, 2013,
]);

function classifyMysql(err: unknown): Classification {
  const facts = driverFacts(err);
  const { code, errno } = facts;
  if (code !== undefined && (NETWORK_CODES.has(code) || code.startsWith('PROTOCOL_'))) {
    return 'transient';
  }
  if (isConcurrencyConflict(facts)) return 'transient';
  if (errno !== undefined && errno > 0)
    return TRANSIENT_ERRNOS.has(errno) ? 'transient' : 'permanent';
  return 'transient';
}

/** Connection options for one login; exported so the Cloud SQL seam can be tested offline. */
export async function mysqlConnectionConfig(
  endpoint: ResolvedEndpoint,
  credential: Credential,
  options: { connectTimeoutMs: number; connector: () => ConnectorOptionsProvider },
): Promise<ConnectionOptions> {
  const common: ConnectionOptions = {
    user: credential.username,
    password: credential.password,
    database: endpoint.database,
    connectTimeout: options.connectTimeoutMs,
    // Never: one statement per round trip is part of the quoting story.
    multipleStatements: false,
  };
  if (endpoint.kind === 'cloud-sql') {
    const driver = await withTimeout(
      options.connector().optionsFor(endpoint.instance),
      options.connectTimeoutMs,
      `mysql: Cloud SQL connector for ${endpoint.instance}`,
    );
    return { ...common, stream: driver.stream };
  }
  return {
    ...common,
    host: endpoint.host,
    port: endpoint.port,
    ...(endpoint.ssl ? { ssl: { rejectUnauthorized: true } } : {}),
  };
}

export function createMysqlEngine(deps: MysqlEngineDeps): DatabaseEngine {
  const { dialect } = deps;
  const engine = dialect;
  const connectTimeoutMs = deps.connectTimeoutMs ?? 5_000;
  const statementTimeoutMs = deps.statementTimeoutMs ?? 30_000;
  const open = deps.createConnection ?? ((config: ConnectionOptions) => createConnection(config));
  let connector = deps.connector;
  const getConnector = () => {
    connector ??= createCloudSqlConnectorProvider();
    return connector;
  };

  type Connected = { ok: true; conn: MysqlConnectionLike } | { ok: false };

  const query = async (
    conn: MysqlConnectionLike,
    action: string,
    sql: string,
    values?: unknown[],
    carriesSecret = false,
  ): Promise<Record<string, unknown>[]> => {
    try {
      const [rows] = await conn.query({
        sql,
        ...(values ? { values } : {}),
        timeout: statementTimeoutMs,
      });
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    } catch (err) {
      throw driverFailure(engine, action, err, classifyMysql(err), { carriesSecret });
    }
  };

  async function connect(
    endpoint: Endpoint,
    credential: Credential,
    deadline?: Deadline,
  ): Promise<Connected> {
    const resolved = resolveEndpoint(endpoint, {
      port: DEFAULT_PORT,
      maxDatabaseLength: MAX_DATABASE_LENGTH,
    });
    const login = {
      username: validateUsername(credential.username, dialect),
      password: validatePassword(credential.password),
    };
    // Connecting changes nothing, but a connect that outlives the lease is wasted: bound it too.
    const connectMs = deadline
      ? Math.max(MIN_STATEMENT_MS, Math.min(connectTimeoutMs, deadline.at - deadline.now()))
      : connectTimeoutMs;
    const config = await mysqlConnectionConfig(resolved, login, {
      connectTimeoutMs: connectMs,
      connector: getConnector,
    });
    let conn: MysqlConnectionLike;
    try {
      conn = await withTimeout<MysqlConnectionLike>(
        open(config),
        connectMs + 1_000,
        `${engine}: connect`,
      );
    } catch (err) {
      if (err instanceof RotatorError) throw err;
      const { errno } = driverFacts(err);
      if (errno !== undefined && AUTH_REJECTED[dialect].has(errno)) return { ok: false };
      throw driverFailure(engine, 'connect', err, classifyMysql(err));
    }
    conn.on('error', () => {});
    try {
      // escape() quotes with backslashes; under NO_BACKSLASH_ESCAPES that quoting would break.
      const [mode] = await query(conn, 'read sql_mode', 'SELECT @@SESSION.sql_mode AS mode');
      const modes = String(mode?.mode ?? '').split(',');
      if (modes.includes('NO_BACKSLASH_ESCAPES')) {
        const kept = modes.filter((m) => m !== 'NO_BACKSLASH_ESCAPES' && /^[A-Z_]+$/.test(m));
        await query(conn, 'set sql_mode', 'SET SESSION sql_mode = ?', [kept.join(',')]);
      }
    } catch (err) {
      await conn.end().catch(() => {});
      throw err;
    }
    return { ok: true, conn };
  }

  const loginVerbs: LoginVerbs<MysqlConnectionLike> = {
    async connect(endpoint, credential) {
      const connected = await connect(endpoint, credential);
      return connected.ok ? { ok: true, session: connected.conn } : { ok: false };
    },
    async runTestQuery(conn, sql) {
      // The session, not only the transaction, is read-only: DDL and account statements commit
      // the open transaction implicitly, and the next one is still read-only, so the server
      // refuses them (ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION) instead of running them.
      await query(conn, 'test query', 'SET SESSION TRANSACTION READ ONLY');
      await query(conn, 'test query', 'START TRANSACTION READ ONLY');
      await query(conn, 'test query', sql);
      await query(conn, 'test query', 'ROLLBACK');
    },
    close: (conn) => conn.end().catch(() => {}),
  };

  function session(
    conn: MysqlConnectionLike,
    sessionUser: string,
    bounds?: { deadline: Deadline; idleMs: number },
  ): AdminSession {
    // With a deadline, every statement is bounded server-side to end before it (fencing).
    const bounded = async (
      action: string,
      sql: string,
      values: unknown[] | undefined,
      carriesSecret: boolean,
    ) => {
      if (!bounds) return query(conn, action, sql, values, carriesSecret);
      const what = `${engine}: ${action}`;
      // MariaDB needs one round trip (one idle gap); MySQL sets the bounds first (two).
      const gaps = dialect === 'mariadb' ? 1 : 2;
      const ms = statementBudgetMs(bounds.deadline, bounds.idleMs, gaps, statementTimeoutMs, what);
      if (dialect === 'mariadb') {
        return query(conn, action, mariadbBoundedSql(sql, ms), values, carriesSecret);
      }
      await query(conn, 'bound statement', mysqlBoundsSql(ms, what));
      return query(conn, action, sql, values, carriesSecret);
    };
    const run = (action: string, sql: string, values?: unknown[]) =>
      bounded(action, sql, values, false);
    const runSecret = (action: string, sql: string) => bounded(action, sql, undefined, true);

    /** The account of a login: its single host in mysql.user (the session's own needs no read). */
    async function accountOf(username: string): Promise<Account & { sslType: string }> {
      const user = validateUsername(username, dialect);
      if (user === sessionUser) {
        const [row] = await run('read current account', CURRENT_ACCOUNT_SQL);
        const current = String(row?.account ?? '');
        const at = current.lastIndexOf('@');
        return { user, host: validateHost(current.slice(at + 1)), sslType: '' };
      }
      const rows = await run('look up login', USER_HOSTS_SQL, [user]);
      if (rows.length === 0) {
        throw new PermanentError(`${engine}: login does not exist`, { context: { user } });
      }
      if (rows.length > 1) {
        throw new PermanentError(`${engine}: login exists for several hosts; expected one`, {
          context: { user, hosts: rows.map((r) => String(r.host)).join(',') },
        });
      }
      const row = rows[0] ?? {};
      return { user, host: validateHost(row.host), sslType: String(row.sslType ?? '') };
    }

    /** The template's grants (and, on MySQL, default roles) as statements for `target`. */
    async function copyGrantStatements(model: Account, target: Account): Promise<string[]> {
      const grants = await run('read template grants', SHOW_GRANTS_SQL, [model.user, model.host]);
      const statements = grants.map((row) =>
        rewriteGrant(String(Object.values(row)[0]), model, target, dialect),
      );
      if (dialect === 'mysql') {
        const roles = await run('read default roles', DEFAULT_ROLES_SQL, [model.user, model.host]);
        if (roles.length > 0) {
          const list = roles.map((r) => ({ user: String(r.user), host: String(r.host) }));
          statements.push(setDefaultRolesSql(dialect, list, target));
        }
      }
      return statements;
    }

    return {
      async setPassword(username, password) {
        const user = validateUsername(username, dialect);
        const pw = validatePassword(password);
        if (user === sessionUser) {
          await runSecret('set own password', setOwnPasswordSql(dialect, pw));
          return;
        }
        await runSecret('set password', setPasswordSql(dialect, await accountOf(user), pw));
      },
      async loginExists(username) {
        const user = validateUsername(username, dialect);
        if (user === sessionUser) return true;
        return (await run('look up login', USER_HOSTS_SQL, [user])).length > 0;
      },
      async createLoginLike(username, template, password) {
        const user = validateUsername(username, dialect);
        const pw = validatePassword(password);
        const model = await accountOf(template);
        const target: Account = { user, host: model.host };
        // Build every statement before creating anything, so a surprising grant fails cleanly.
        const statements = await copyGrantStatements(model, target);
        // MySQL DDL is not transactional: undo by hand if a grant fails.
        await runSecret('create login', createUserSql(dialect, target, pw, model.sslType));
        try {
          for (const sql of statements) await run('copy grant', sql);
        } catch (err) {
          await run('drop incomplete login', dropUserSql(dialect, target)).catch(() => {});
          throw err;
        }
      },
      async syncLoginLike(username, template) {
        const model = await accountOf(template);
        const target = await accountOf(username);
        // GRANT only adds: re-running the template's grants gives the login what was granted to
        // the template since the last rotation, and touches nothing it already has.
        for (const sql of await copyGrantStatements(model, target)) await run('copy grant', sql);
      },
      async privilegeGap(candidate, reference) {
        const ref = await accountOf(reference);
        const cand = await accountOf(candidate);
        const lines = async (account: Account) =>
          (await run('read grants', SHOW_GRANTS_SQL, [account.user, account.host])).map((row) =>
            rewriteGrant(String(Object.values(row)[0]), account, cand, dialect),
          );
        const gap = grantGap(await lines(ref), await lines(cand));
        return gap === undefined ? undefined : `${cand.user} lacks ${gap} that ${ref.user} has`;
      },
      async dualPasswordBlocker(username) {
        const account = await accountOf(username);
        const [row] = await run('read authentication', AUTH_FACTS_SQL[dialect], [
          account.user,
          account.host,
        ]);
        return dualPasswordBlocker(dialect, row);
      },
      async enableLogin(username) {
        await run('unlock account', accountLockSql(dialect, await accountOf(username), false));
      },
      async disableLogin(username) {
        await run('lock account', accountLockSql(dialect, await accountOf(username), true));
      },
      async addPassword(username, password, retained) {
        const account = await accountOf(username);
        const [facts] = await run('read authentication', AUTH_FACTS_SQL[dialect], [
          account.user,
          account.host,
        ]);
        const blocker = dualPasswordBlocker(dialect, facts);
        if (blocker !== undefined) {
          throw new PermanentError(
            `${engine}: dual-password cannot rotate ${account.user}: ${blocker}`,
            {
              context: { user: account.user },
            },
          );
        }
        const sql = addPasswordSql(
          dialect,
          account,
          validatePassword(password),
          validatePassword(retained),
        );
        try {
          for (const statement of sql) await runSecret('add password', statement);
        } catch (err) {
          const { errno } = driverFacts(err instanceof Error && err.cause ? err.cause : err);
          if (errno !== undefined && POLICY_REFUSED.has(errno)) {
            throw new PermanentError(
              `${engine}: the server refused the password pair for ${account.user} (errno ${errno}); ` +
                `its password policy: ${passwordPolicyDescription(facts)}. Both the new and the ` +
                'current password must meet it (the current one is set again as the second alternative)',
              { cause: err, context: { user: account.user, errno } },
            );
          }
          throw err;
        }
      },
      async discardOtherPasswords(username, keep) {
        const sql = discardOtherPasswordsSql(
          dialect,
          await accountOf(username),
          validatePassword(keep),
        );
        for (const statement of sql) await runSecret('discard other passwords', statement);
      },
      async countSessions(username) {
        const [row] = await run('count sessions', COUNT_SESSIONS_SQL, [
          validateUsername(username, dialect),
        ]);
        return Number(row?.count ?? 0);
      },
      async endSessions(username) {
        const rows = await run('list sessions', SESSION_IDS_SQL, [
          validateUsername(username, dialect),
        ]);
        let ended = 0;
        for (const row of rows) {
          try {
            await query(conn, 'end session', killConnectionSql(Number(row.id)));
            ended++;
          } catch (err) {
            // ER_NO_SUCH_THREAD: the session ended by itself meanwhile.
            if ((err as RotatorError).context?.errno !== 1094) throw err;
          }
        }
        return ended;
      },
    };
  }

  return {
    name: dialect,
    // MySQL 8.0.14+ (RETAIN CURRENT PASSWORD); MariaDB 10.4+ (authentication alternatives).
    supportsDualPassword: true,
    maxUsernameLength: MAX_USERNAME_LENGTH[dialect],
    tryLogin: (endpoint, credential, testQuery) =>
      tryLoginWith(loginVerbs, endpoint, credential, testQuery),
    async withSession(endpoint, credential, fn, options) {
      const deadline = options?.deadline;
      const connected = await connect(endpoint, credential, deadline);
      if (!connected.ok) {
        throw new PermanentError(`${engine}: the server rejected the session login`, {
          context: { reason: 'rejected' },
        });
      }
      try {
        if (!deadline) return await fn(session(connected.conn, credential.username));
        // The server closes a connection idle for longer than wait_timeout (whole seconds): a
        // client paused after its last check cannot send a statement late.
        const idleMs = Math.ceil(idleBoundMs(deadline, 1_000) / 1000) * 1000;
        await query(connected.conn, 'bound session', 'SET SESSION wait_timeout = ?', [
          idleMs / 1000,
        ]);
        return await fn(session(connected.conn, credential.username, { deadline, idleMs }));
      } finally {
        await connected.conn.end().catch(() => {});
      }
    },
  };
}
