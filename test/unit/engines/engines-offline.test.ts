import { inspect } from 'node:util';
import type { Endpoint } from '../../../shared/engines/engine';
import { createMysqlEngine } from '../../../shared/engines/mysql';
import { createPostgresEngine } from '../../../shared/engines/postgres';
import { engineFor } from '../../../shared/engines/registry';
import { PermanentError, TransientError } from '../../../shared/errors';
import { driverError, fakeMysqlConnection, fakePgClient } from './fakes';

const endpoint: Endpoint = { host: '127.0.0.1', port: 1, database: 'shop' };
const admin = { username: 'admin', password: 'admin-secret-1' };
const SECRET = 'n3w-s3cret-value';

function pgEngine(options: Parameters<typeof fakePgClient>[0]) {
  const fake = fakePgClient(options);
  let connections = 0;
  const engine = createPostgresEngine({
    createClient: () => {
      connections++;
      return fake.client;
    },
  });
  return { engine, queries: fake.queries, connections: () => connections };
}

function mysqlEngine(
  dialect: 'mysql' | 'mariadb',
  options: Parameters<typeof fakeMysqlConnection>[0],
) {
  const fake = fakeMysqlConnection(options);
  let connections = 0;
  const engine = createMysqlEngine({
    dialect,
    createConnection: () => {
      connections++;
      return fake.open();
    },
  });
  return { engine, queries: fake.queries, connections: () => connections };
}

describe('tryLogin classification (PostgreSQL)', () => {
  it.each([
    ['28P01', { ok: false, reason: 'rejected' }],
    ['28000', { ok: false, reason: 'rejected' }],
  ])('%s is a rejection', async (code, expected) => {
    const { engine } = pgEngine({ connectError: driverError('auth failed', { code }) });
    await expect(engine.tryLogin(endpoint, admin)).resolves.toEqual(expected);
  });

  it.each(['ECONNREFUSED', 'ETIMEDOUT', '57P03', '53300', '08006'])(
    '%s is transient',
    async (code) => {
      const { engine } = pgEngine({ connectError: driverError('down', { code }) });
      await expect(engine.tryLogin(endpoint, admin)).rejects.toBeInstanceOf(TransientError);
    },
  );

  it('a connection timeout without a code is transient', async () => {
    const { engine } = pgEngine({
      connectError: new Error('Connection terminated due to connection timeout'),
    });
    await expect(engine.tryLogin(endpoint, admin)).rejects.toBeInstanceOf(TransientError);
  });

  it('an unknown database is permanent', async () => {
    const { engine } = pgEngine({ connectError: driverError('no db', { code: '3D000' }) });
    await expect(engine.tryLogin(endpoint, admin)).rejects.toBeInstanceOf(PermanentError);
  });

  it('a failing test query is permanent, and runs read-only in one extended-protocol statement', async () => {
    const { engine, queries } = pgEngine({
      answers: { 'SELECT nope': driverError('relation "nope" does not exist', { code: '42P01' }) },
    });
    await expect(engine.tryLogin(endpoint, admin, 'SELECT nope')).rejects.toBeInstanceOf(
      PermanentError,
    );
    expect(queries).toEqual(['BEGIN READ ONLY', 'SELECT nope']);
  });
});

describe('tryLogin classification (MySQL / MariaDB)', () => {
  it.each([
    ['mysql', 1045],
    ['mysql', 3118],
    ['mariadb', 1045],
    ['mariadb', 4151],
  ] as const)('%s errno %i is a rejection', async (dialect, errno) => {
    const { engine } = mysqlEngine(dialect, { connectError: driverError('denied', { errno }) });
    await expect(engine.tryLogin(endpoint, admin)).resolves.toEqual({
      ok: false,
      reason: 'rejected',
    });
  });

  it('errno 4151 means something else on MySQL: not a rejection', async () => {
    const { engine } = mysqlEngine('mysql', { connectError: driverError('x', { errno: 4151 }) });
    await expect(engine.tryLogin(endpoint, admin)).rejects.toBeInstanceOf(PermanentError);
  });

  it.each([
    { code: 'ECONNREFUSED', errno: -111 },
    { code: 'ETIMEDOUT' },
    { code: 'PROTOCOL_CONNECTION_LOST' },
    { code: 'ER_CON_COUNT_ERROR', errno: 1040 },
  ])('%j is transient', async (fields) => {
    const { engine } = mysqlEngine('mariadb', { connectError: driverError('down', fields) });
    await expect(engine.tryLogin(endpoint, admin)).rejects.toBeInstanceOf(TransientError);
  });

  it('a failing test query is permanent', async () => {
    const { engine } = mysqlEngine('mariadb', {
      answers: {
        'SELECT nope': driverError('unknown column', { errno: 1054, code: 'ER_BAD_FIELD_ERROR' }),
      },
    });
    await expect(engine.tryLogin(endpoint, admin, 'SELECT nope')).rejects.toBeInstanceOf(
      PermanentError,
    );
  });

  it('turns NO_BACKSLASH_ESCAPES off for its session before quoting anything', async () => {
    const { engine, queries } = mysqlEngine('mysql', {
      answers: {
        'SELECT @@SESSION.sql_mode': [{ mode: 'STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES' }],
      },
    });
    await engine.tryLogin(endpoint, admin);
    expect(queries[1]).toEqual({
      sql: 'SET SESSION sql_mode = ?',
      values: ['STRICT_TRANS_TABLES'],
    });
  });
});

describe('no SQL before validation', () => {
  const hostile = 'x"; DROP ROLE postgres; --';

  it('tryLogin with a hostile user or database opens no connection', async () => {
    for (const make of [() => pgEngine({}), () => mysqlEngine('mariadb', {})]) {
      const { engine, connections } = make();
      await expect(
        engine.tryLogin(endpoint, { username: hostile, password: 'x' }),
      ).rejects.toBeInstanceOf(PermanentError);
      await expect(
        engine.tryLogin({ ...endpoint, database: hostile }, admin),
      ).rejects.toBeInstanceOf(PermanentError);
      expect(connections()).toBe(0);
    }
  });

  it('session verbs with a hostile name send nothing', async () => {
    for (const make of [() => pgEngine({}), () => mysqlEngine('mysql', {})]) {
      const { engine, queries } = make();
      await engine.withSession(endpoint, admin, async (s) => {
        const sent = queries.length;
        const calls = [
          () => s.setPassword(hostile, 'pw'),
          () => s.loginExists(hostile),
          () => s.createLoginLike(hostile, 'app', 'pw'),
          () => s.createLoginLike('app_clone', hostile, 'pw'),
          () => s.enableLogin(hostile),
          () => s.disableLogin(hostile),
          () => s.countSessions(hostile),
          () => s.addPassword(hostile, 'a', 'b'),
          () => s.discardOtherPasswords(hostile, 'a'),
        ];
        for (const call of calls) await expect(call()).rejects.toBeInstanceOf(PermanentError);
        expect(queries.length).toBe(sent);
      });
    }
  });
});

describe('secrets stay out of errors', () => {
  it('a failed ALTER ROLE keeps only the code (PostgreSQL)', async () => {
    const { engine } = pgEngine({
      answers: {
        'ALTER ROLE': driverError(`syntax error at or near "${SECRET}"`, { code: '42601' }),
      },
    });
    const err = await engine
      .withSession(endpoint, admin, (s) => s.setPassword('app', SECRET))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toBe('postgres: set password failed (42601)');
    expect(inspect(err, { depth: 5 })).not.toContain(SECRET);
  });

  it('a failed ALTER USER keeps only the code (mysql2 attaches the SQL)', async () => {
    const { engine } = mysqlEngine('mariadb', {
      answers: {
        'SELECT Host': [{ host: '%', sslType: '' }],
        'ALTER USER': driverError(`You have an error near '${SECRET}'`, {
          errno: 1064,
          code: 'ER_PARSE_ERROR',
          sql: `ALTER USER 'app'@'%' IDENTIFIED BY '${SECRET}'`,
        }),
      },
    });
    const err = await engine
      .withSession(endpoint, admin, (s) => s.setPassword('app', SECRET))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    const text = inspect(err, { depth: 5 });
    expect(text).not.toContain(SECRET);
    expect(text).toContain('ER_PARSE_ERROR');
  });
});

describe('MySQL 8 verbs, as executed', () => {
  const answers = {
    'SELECT Host': [{ host: '10.0.%', sslType: 'ANY' }],
    'SHOW GRANTS': [
      { 'Grants for app@10.0.%': 'GRANT SELECT ON `shop`.* TO `app`@`10.0.%`' },
      { 'Grants for app@10.0.%': 'GRANT `owner`@`%` TO `app`@`10.0.%`' },
    ],
    'SELECT DEFAULT_ROLE_USER': [{ user: 'owner', host: '%' }],
    'SELECT plugin': [
      {
        plugin: 'caching_sha2_password',
        history: null,
        reuseDays: null,
        globalHistory: 0,
        globalReuseDays: 0,
      },
    ],
    'SELECT JSON_VALUE': [
      { plugin: 'mysql_native_password', alternatives: null, validation: null },
    ],
  };

  it('addPassword and discardOtherPasswords run the RETAIN / DISCARD sequence on the user host', async () => {
    const { engine, queries } = mysqlEngine('mysql', { answers });
    await engine.withSession(endpoint, admin, async (s) => {
      await s.addPassword('app', 'new-pw', 'old-pw');
      await s.discardOtherPasswords('app', 'new-pw');
    });
    expect(queries.map((q) => q.sql).filter((sql) => sql.startsWith('ALTER USER'))).toEqual([
      "ALTER USER 'app'@'10.0.%' IDENTIFIED BY 'old-pw'",
      "ALTER USER 'app'@'10.0.%' IDENTIFIED BY 'new-pw' RETAIN CURRENT PASSWORD",
      "ALTER USER 'app'@'10.0.%' IDENTIFIED BY 'new-pw' RETAIN CURRENT PASSWORD",
      "ALTER USER 'app'@'10.0.%' DISCARD OLD PASSWORD",
    ]);
  });

  it('createLoginLike copies host, TLS requirement, grants and default roles', async () => {
    const { engine, queries } = mysqlEngine('mysql', { answers });
    await engine.withSession(endpoint, admin, (s) => s.createLoginLike('app_clone', 'app', 'pw'));
    expect(queries.map((q) => q.sql).slice(-4)).toEqual([
      "CREATE USER 'app_clone'@'10.0.%' IDENTIFIED BY 'pw' REQUIRE SSL",
      "GRANT SELECT ON `shop`.* TO 'app_clone'@'10.0.%'",
      "GRANT `owner`@`%` TO 'app_clone'@'10.0.%'",
      "SET DEFAULT ROLE 'owner'@'%' TO 'app_clone'@'10.0.%'",
    ]);
  });

  it('createLoginLike drops the half-made login when a grant fails', async () => {
    const { engine, queries } = mysqlEngine('mysql', {
      answers: {
        ...answers,
        'GRANT `owner`': driverError('no grant option', {
          errno: 1044,
          code: 'ER_DBACCESS_DENIED_ERROR',
        }),
      },
    });
    await expect(
      engine.withSession(endpoint, admin, (s) => s.createLoginLike('app_clone', 'app', 'pw')),
    ).rejects.toBeInstanceOf(PermanentError);
    expect(queries.at(-1)?.sql).toBe("DROP USER IF EXISTS 'app_clone'@'10.0.%'");
  });

  it('a login that exists for several hosts is refused, not guessed', async () => {
    const { engine } = mysqlEngine('mysql', {
      answers: { 'SELECT Host': [{ host: '%' }, { host: 'localhost' }] },
    });
    await expect(engine.withSession(endpoint, admin, (s) => s.disableLogin('app'))).rejects.toThrow(
      /several hosts/,
    );
  });

  it('MySQL 8 under password_history refuses dual-password before changing anything', async () => {
    const { engine, queries } = mysqlEngine('mysql', {
      answers: {
        ...answers,
        'SELECT plugin': [
          {
            plugin: 'caching_sha2_password',
            history: null,
            reuseDays: null,
            globalHistory: 5,
            globalReuseDays: 0,
          },
        ],
      },
    });
    await expect(
      engine.withSession(endpoint, admin, (s) => s.addPassword('app', 'new-pw', 'old-pw')),
    ).rejects.toThrow(
      /dual-password cannot rotate app: a password reuse policy is in force \(password history 5/,
    );
    expect(queries.some((q) => q.sql.startsWith('ALTER USER'))).toBe(false);
  });

  it('a policy refusal names the policy, never the passwords', async () => {
    const { engine } = mysqlEngine('mariadb', {
      answers: {
        ...answers,
        'SELECT JSON_VALUE': [
          {
            plugin: 'mysql_native_password',
            alternatives: null,
            validation: 'simple_password_check',
            strict: 1,
          },
        ],
        'ALTER USER': driverError("Operation ALTER USER failed for 'app'@'10.0.%'", {
          errno: 1396,
          code: 'ER_CANNOT_USER',
        }),
      },
    });
    const err = await engine
      .withSession(endpoint, admin, (s) => s.addPassword('app', 'new-pw', 'old-pw'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toMatch(
      /refused the password pair for app \(errno 1396\); its password policy: password-validation plugins simple_password_check, strict_password_validation=ON/,
    );
    expect(inspect(err, { depth: 6 })).not.toMatch(/new-pw|old-pw/);
  });
});

describe('PostgreSQL has one password per role', () => {
  it('refuses dual-password verbs', async () => {
    const { engine } = pgEngine({});
    expect(engine.supportsDualPassword).toBe(false);
    await engine.withSession(endpoint, admin, async (s) => {
      await expect(s.addPassword('app', 'a', 'b')).rejects.toThrow(/alternating-users/);
      await expect(s.discardOtherPasswords('app', 'a')).rejects.toBeInstanceOf(PermanentError);
    });
  });

  it('sends a SCRAM verifier, not the password', async () => {
    const { engine, queries } = pgEngine({});
    await engine.withSession(endpoint, admin, (s) => s.setPassword('app', SECRET));
    expect(queries).toEqual([
      'SET ROLE NONE',
      expect.stringMatching(/^ALTER ROLE "app" WITH PASSWORD 'SCRAM-SHA-256\$4096:/),
    ]);
    expect(queries.join('\n')).not.toContain(SECRET);
  });
});

describe('engineFor', () => {
  it('builds each engine once and caches it; deps give a fresh one', () => {
    expect(engineFor('postgres')).toBe(engineFor('postgres'));
    expect(engineFor('mysql')).not.toBe(engineFor('mariadb'));
    expect(engineFor('postgres', { connectTimeoutMs: 10 })).not.toBe(engineFor('postgres'));
    expect(
      (['postgres', 'mysql', 'mariadb'] as const).map((n) => [
        engineFor(n).name,
        engineFor(n).supportsDualPassword,
        engineFor(n).maxUsernameLength,
      ]),
    ).toEqual([
      ['postgres', false, 63],
      ['mysql', true, 32],
      ['mariadb', true, 80],
    ]);
  });
});
