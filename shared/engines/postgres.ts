import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { Client, type ClientConfig, type QueryConfig, type QueryResultRow } from 'pg';
import { PermanentError, RotatorError } from '../errors';
import { type ConnectorOptionsProvider, createCloudSqlConnectorProvider } from './cloud-sql';
import { type Deadline, idleBoundMs, MIN_STATEMENT_MS, statementBudgetMs } from './deadline';
import {
  type Classification,
  type DriverErrorFacts,
  driverFacts,
  driverFailure,
  isConcurrencyConflict,
  NETWORK_CODES,
  withTimeout,
} from './driver-errors';
import { type ResolvedEndpoint, resolveEndpoint } from './endpoint';
import type { AdminSession, Credential, DatabaseEngine, Endpoint } from './engine';
import { validatePassword } from './identifiers';
import { type RandomBytes, scramSha256Verifier } from './postgres-scram';
import {
  alterRoleLoginSql,
  alterRolePasswordSql,
  COUNT_SESSIONS_SQL,
  createLoginRoleSql,
  END_SESSIONS_SQL,
  grantMembershipSql,
  IS_MEMBER_SQL,
  PG_MAX_IDENTIFIER_LENGTH,
  PRIVILEGE_GAP_SQL,
  ROLE_ATTRIBUTES_SQL,
  ROLE_EXISTS_SQL,
  ROLE_MEMBERSHIPS_SQL,
  ROLE_SETTINGS_SQL,
  roleSettingSql,
  setRoleSettingSql,
  validateRoleName,
} from './postgres-sql';
import { type LoginVerbs, tryLoginWith } from './try-login';

/** The part of pg.Client the engine uses: a seam for unit tests of connection setup. */
export interface PgClientLike {
  connect(): Promise<unknown>;
  query<R extends QueryResultRow = QueryResultRow>(
    query: string | QueryConfig,
  ): Promise<{ rows: R[] }>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface PostgresEngineDeps {
  /** Bound on connecting and authenticating (default 5 s). */
  connectTimeoutMs?: number;
  /** Bound on every statement, server- and client-side (default 30 s). */
  statementTimeoutMs?: number;
  /** Cloud SQL seam; the official connector is created lazily when none is given. */
  connector?: ConnectorOptionsProvider;
  /** Salt source for SCRAM verifiers. */
  randomBytes?: RandomBytes;
  createClient?: (config: ClientConfig) => PgClientLike;
}

const ENGINE = 'postgres';
const DEFAULT_PORT = 5432;

// 28P01 invalid_password; 28000 invalid_authorization_specification (NOLOGIN role, unknown role
// under some poolers, RDS Proxy's answer to a bad password).
const AUTH_REJECTED = new Set(['28P01', '28000']);

/** SQLSTATEs worth retrying: connection (08), operator intervention (57P), resources (53), locks. */
function classifySqlState(facts: DriverErrorFacts): Classification {
  const { code } = facts;
  if (code === undefined || NETWORK_CODES.has(code) || isConcurrencyConflict(facts)) {
    return 'transient';
  }
  if (/^(08|53|57P)/.test(code) || code === '57014') {
    return 'transient';
  }
  // Not a SQLSTATE (a driver-level failure such as a connection timeout): the world may heal.
  if (!/^[0-9A-Z]{5}$/.test(code)) return 'transient';
  return 'permanent';
}

const classifyPg = (err: unknown): Classification => classifySqlState(driverFacts(err));

// Fencing (a session with a deadline). The server ends a session left idle longer than the bound,
// inside a transaction (9.6+) or outside one (14+); every statement gets statement_timeout and
// lock_timeout set to what is left, so a lock wait is abandoned by the server itself.
const IDLE_BOUNDS_SQL =
  "SELECT set_config('idle_in_transaction_session_timeout', $1, false), " +
  "CASE WHEN current_setting('server_version_num')::int >= 140000 " +
  "THEN set_config('idle_session_timeout', $1, false) END";
const STATEMENT_BOUNDS_SQL =
  "SELECT set_config('statement_timeout', $1, false), set_config('lock_timeout', $1, false)";
const MIN_IDLE_MS = 200;

/** Connection options for one login; exported so the Cloud SQL seam can be tested offline. */
export async function postgresClientConfig(
  endpoint: ResolvedEndpoint,
  credential: Credential,
  options: {
    connectTimeoutMs: number;
    statementTimeoutMs: number;
    connector: () => ConnectorOptionsProvider;
  },
): Promise<ClientConfig> {
  const common: ClientConfig = {
    user: credential.username,
    password: credential.password,
    database: endpoint.database,
    application_name: 'gsm-rotator',
    connectionTimeoutMillis: options.connectTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
    query_timeout: options.statementTimeoutMs,
  };
  if (endpoint.kind === 'cloud-sql') {
    const driver = await withTimeout(
      options.connector().optionsFor(endpoint.instance),
      options.connectTimeoutMs,
      `${ENGINE}: Cloud SQL connector for ${endpoint.instance}`,
    );
    // The connector's socket is already TLS: no host, port or ssl of our own.
    return { ...common, stream: driver.stream, ssl: false };
  }
  return {
    ...common,
    host: endpoint.host,
    port: endpoint.port,
    ssl: endpoint.ssl ? { rejectUnauthorized: true } : false,
  };
}

export function createPostgresEngine(deps: PostgresEngineDeps = {}): DatabaseEngine {
  const connectTimeoutMs = deps.connectTimeoutMs ?? 5_000;
  const statementTimeoutMs = deps.statementTimeoutMs ?? 30_000;
  const randomBytes = deps.randomBytes ?? cryptoRandomBytes;
  const createClient = deps.createClient ?? ((config: ClientConfig) => new Client(config));
  let connector = deps.connector;
  const getConnector = () => {
    connector ??= createCloudSqlConnectorProvider();
    return connector;
  };

  type Connected = { ok: true; client: PgClientLike } | { ok: false };

  async function connect(
    endpoint: Endpoint,
    credential: Credential,
    deadline?: Deadline,
  ): Promise<Connected> {
    const resolved = resolveEndpoint(endpoint, {
      port: DEFAULT_PORT,
      maxDatabaseLength: PG_MAX_IDENTIFIER_LENGTH,
    });
    const login = {
      username: validateRoleName(credential.username),
      password: validatePassword(credential.password),
    };
    // Connecting changes nothing, but a connect that outlives the lease is wasted: bound it too.
    const connectMs = deadline
      ? Math.max(MIN_STATEMENT_MS, Math.min(connectTimeoutMs, deadline.at - deadline.now()))
      : connectTimeoutMs;
    const config = await postgresClientConfig(resolved, login, {
      connectTimeoutMs: connectMs,
      statementTimeoutMs,
      connector: getConnector,
    });
    const client = createClient(config);
    // A dropped connection is reported on the next query; an unhandled 'error' event would crash.
    client.on('error', () => {});
    try {
      // The driver's own timeout covers connect + authentication; this bounds anything else.
      await withTimeout(client.connect(), connectMs + 1_000, `${ENGINE}: connect`);
      return { ok: true, client };
    } catch (err) {
      await client.end().catch(() => {});
      if (err instanceof RotatorError) throw err;
      const { code } = driverFacts(err);
      if (code !== undefined && AUTH_REJECTED.has(code)) return { ok: false };
      throw driverFailure(ENGINE, 'connect', err, classifyPg(err));
    }
  }

  const loginVerbs: LoginVerbs<PgClientLike> = {
    async connect(endpoint, credential) {
      const connected = await connect(endpoint, credential);
      return connected.ok ? { ok: true, session: connected.client } : { ok: false };
    },
    async runTestQuery(client, query) {
      try {
        // A read-only transaction, rolled back: PostgreSQL refuses every write in it, DDL and
        // role changes included. The extended protocol refuses more than one statement.
        await client.query('BEGIN READ ONLY');
        const single: QueryConfig & { queryMode: 'extended' } = {
          text: query,
          queryMode: 'extended',
        };
        await client.query(single);
        await client.query('ROLLBACK');
      } catch (err) {
        throw driverFailure(ENGINE, 'test query', err, classifyPg(err));
      }
    },
    close: (client) => client.end().catch(() => {}),
  };

  function session(
    client: PgClientLike,
    bounds?: { deadline: Deadline; idleMs: number },
  ): AdminSession {
    const run = async <R extends QueryResultRow>(
      action: string,
      query: string | QueryConfig,
      carriesSecret = false,
    ): Promise<R[]> => {
      // Two idle gaps may follow this check: before the bounds, and before the statement.
      const ms =
        bounds &&
        statementBudgetMs(
          bounds.deadline,
          bounds.idleMs,
          2,
          statementTimeoutMs,
          `${ENGINE}: ${action}`,
        );
      try {
        if (ms !== undefined) {
          await client.query({ text: STATEMENT_BOUNDS_SQL, values: [String(ms)] });
        }
        return (await client.query<R>(query)).rows;
      } catch (err) {
        throw driverFailure(ENGINE, action, err, classifyPg(err), { carriesSecret });
      }
    };
    const passwordSecret = (password: string) =>
      scramSha256Verifier(validatePassword(password), randomBytes) ?? password;
    const noDualPassword = async () => {
      throw new PermanentError(
        'postgres: a role has one password; use the alternating-users strategy',
      );
    };

    return {
      async setPassword(username, password) {
        const sql = alterRolePasswordSql(username, passwordSecret(password));
        await run('set password', sql, true);
      },
      async loginExists(username) {
        const rows = await run('look up login', {
          text: ROLE_EXISTS_SQL,
          values: [validateRoleName(username)],
        });
        return rows.length > 0;
      },
      async createLoginLike(username, template, password) {
        const name = validateRoleName(username);
        const model = validateRoleName(template);
        const [attrs] = await run<{ rolinherit: boolean; rolconnlimit: number }>('read template', {
          text: ROLE_ATTRIBUTES_SQL,
          values: [model],
        });
        if (!attrs) {
          throw new PermanentError('postgres: template login does not exist', {
            context: { template: model },
          });
        }
        const memberships = await run<{ group: string; adminOption: boolean }>('read memberships', {
          text: ROLE_MEMBERSHIPS_SQL,
          values: [model],
        });
        const settings = await run<{ database: string | null; entries: string[] | null }>(
          'read role settings',
          { text: ROLE_SETTINGS_SQL, values: [model] },
        );
        // AWS's multi-user approach: the clone is also a member of the template, so it inherits
        // what was granted to the template directly and what the template owns. Unless the
        // template already acts as an owner role (`SET role`, copied with its settings), the clone
        // acts as the template: what it creates belongs to the template, which can use it after
        // the next rotation; and the template keeps its rights while retired (NOLOGIN).
        const actsAsOwner = settings.some((s) => (s.entries ?? []).some((e) => /^role=/i.test(e)));
        // Build every statement before sending any, so a malformed template fails cleanly.
        const statements = [
          ...memberships.map((m) => grantMembershipSql(m.group, name, m.adminOption)),
          grantMembershipSql(model, name, false),
          ...settings.flatMap((s) =>
            (s.entries ?? []).map((e) => roleSettingSql(name, s.database, e)),
          ),
          ...(actsAsOwner ? [] : [setRoleSettingSql(name, model)]),
        ];
        const create = createLoginRoleSql(name, passwordSecret(password), {
          inherit: attrs.rolinherit,
          connectionLimit: attrs.rolconnlimit,
        });
        // Role DDL is transactional in PostgreSQL: the clone appears complete or not at all.
        await run('begin', 'BEGIN');
        try {
          await run('create login', create, true);
          for (const sql of statements) await run('copy membership or setting', sql);
          await run('commit', 'COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          throw err;
        }
      },
      async syncLoginLike(username, template) {
        const name = validateRoleName(username);
        const model = validateRoleName(template);
        const membershipsOf = async (role: string) =>
          run<{ group: string; adminOption: boolean }>('read memberships', {
            text: ROLE_MEMBERSHIPS_SQL,
            values: [role],
          });
        const held = new Set((await membershipsOf(name)).map((m) => m.group));
        const statements = (await membershipsOf(model))
          .filter((m) => m.group !== name && !held.has(m.group))
          .map((m) => grantMembershipSql(m.group, name, m.adminOption));
        // Membership in the template itself (a clone made before it was given one), unless
        // either is already a member of the other: PostgreSQL refuses circular membership.
        const isMember = async (member: string, group: string) =>
          (
            await run<{ member: boolean }>('read membership', {
              text: IS_MEMBER_SQL,
              values: [member, group],
            })
          )[0]?.member === true;
        if (!(await isMember(name, model)) && !(await isMember(model, name))) {
          statements.push(grantMembershipSql(model, name, false));
        }
        for (const sql of statements) await run('copy membership', sql);
      },
      async privilegeGap(candidate, reference) {
        const [gap] = await run<{ object: string; privilege: string }>('compare privileges', {
          text: PRIVILEGE_GAP_SQL,
          values: [validateRoleName(reference), validateRoleName(candidate)],
        });
        return gap === undefined
          ? undefined
          : `${candidate} lacks ${gap.privilege} on ${gap.object} that ${reference} has`;
      },
      async dualPasswordBlocker() {
        return 'a PostgreSQL role has one password; use the alternating-users strategy';
      },
      async enableLogin(username) {
        await run('enable login', alterRoleLoginSql(username, true));
      },
      async disableLogin(username) {
        await run('disable login', alterRoleLoginSql(username, false));
      },
      addPassword: noDualPassword,
      discardOtherPasswords: noDualPassword,
      async countSessions(username) {
        const [row] = await run<{ count: number }>('count sessions', {
          text: COUNT_SESSIONS_SQL,
          values: [validateRoleName(username)],
        });
        return row?.count ?? 0;
      },
      async endSessions(username) {
        const [row] = await run<{ count: number }>('end sessions', {
          text: END_SESSIONS_SQL,
          values: [validateRoleName(username)],
        });
        return row?.count ?? 0;
      },
    };
  }

  return {
    name: 'postgres',
    supportsDualPassword: false,
    maxUsernameLength: PG_MAX_IDENTIFIER_LENGTH,
    tryLogin: (endpoint, credential, testQuery) =>
      tryLoginWith(loginVerbs, endpoint, credential, testQuery),
    async withSession(endpoint, credential, fn, options) {
      const deadline = options?.deadline;
      const connected = await connect(endpoint, credential, deadline);
      if (!connected.ok) {
        throw new PermanentError('postgres: the server rejected the session login', {
          context: { reason: 'rejected' },
        });
      }
      try {
        // A login configured with `SET role = owner` acts as the owner role; role management
        // (even changing one's own password) needs the login itself.
        await connected.client.query('SET ROLE NONE').catch((err: unknown) => {
          throw driverFailure(ENGINE, 'reset role', err, classifyPg(err));
        });
        if (!deadline) return await fn(session(connected.client));
        const idleMs = idleBoundMs(deadline, MIN_IDLE_MS);
        await connected.client
          .query({ text: IDLE_BOUNDS_SQL, values: [String(idleMs)] })
          .catch((err: unknown) => {
            throw driverFailure(ENGINE, 'bound session', err, classifyPg(err));
          });
        return await fn(session(connected.client, { deadline, idleMs }));
      } finally {
        await connected.client.end().catch(() => {});
      }
    },
  };
}
