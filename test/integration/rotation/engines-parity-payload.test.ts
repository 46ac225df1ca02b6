import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { Client } from 'pg';
import type { TestServerAddress } from '../../../devtools/databases';
import { adminPayload, canLogin, loginPayload } from '../../../devtools/db-fixtures';
import { CONFIG_KEYS } from '../../../shared/config/annotations';
import type { DatabaseEngine } from '../../../shared/engines/engine';
import type { RotationRequest } from '../../../shared/events/rotation-request';
import { handleRotationRequest } from '../../../shared/rotation/rotator';
import { readCurrentValue } from '../../../shared/secrets/read-current';
import {
  createRotationHarness,
  type ManagedSecret,
  PROJECT,
  type RotationHarness,
} from '../../support/rotation-harness';

/**
 * Issue 12 at rotation level, on the real servers: privilege parity between the two logins of
 * alternating-users (a grant added between rotations, a missing grant that fails the rotation),
 * the payload copied exactly, and the admin secret read at its newest enabled version.
 */
let h: RotationHarness;
// The same, with syncLoginLike removed: a grant the other login never received.
let noSync: RotationHarness;

beforeAll(async () => {
  h = await createRotationHarness();
  noSync = await createRotationHarness({
    wrapEngine: (engine: DatabaseEngine): DatabaseEngine => ({
      ...engine,
      tryLogin: engine.tryLogin,
      withSession: (endpoint, credential, fn) =>
        engine.withSession(endpoint, credential, (s) =>
          fn({ ...s, syncLoginLike: async () => {} }),
        ),
    }),
  });
});
afterAll(async () => {
  h.assertNoPasswordInLogs();
  noSync.assertNoPasswordInLogs();
  await h.stop();
  await noSync.stop();
});

let seq = 0;
const requestFor = (secret: ManagedSecret): RotationRequest => ({
  secret: secret.name,
  trigger: 'on-demand',
  requestKey: `on-demand:parity-${++seq}`,
  requestedAt: Date.now(),
  requestedBy: 'engines-parity-payload.test',
});

/** Run statements as the server's admin, with the raw driver. */
async function asAdmin(engine: 'postgres' | 'mariadb', server: TestServerAddress, sql: string[]) {
  if (engine === 'postgres') {
    const c = new Client({
      host: server.host,
      port: server.port,
      user: server.adminUser,
      password: server.adminPassword,
      database: 'postgres',
    });
    await c.connect();
    try {
      for (const s of sql) await c.query(s);
    } finally {
      await c.end();
    }
    return;
  }
  const c = await mysql.createConnection({
    host: server.host,
    port: server.port,
    user: server.adminUser,
    password: server.adminPassword,
  });
  try {
    for (const s of sql) await c.query(s);
  } finally {
    await c.end();
  }
}

/** A new table on which only `username` holds `privilege` (a direct grant). */
async function grantNewTable(
  secret: ManagedSecret,
  username: string,
  privilege: 'SELECT' | 'INSERT' = 'SELECT',
): Promise<string> {
  const { engine, database } = secret.fixture;
  const table = `g_${randomBytes(4).toString('hex')}`;
  if (engine === 'postgres') {
    await asAdmin(engine, secret.server, [
      `CREATE TABLE ${table} (id int)`,
      `GRANT ${privilege} ON ${table} TO ${username}`,
    ]);
  } else {
    await asAdmin(engine, secret.server, [
      `CREATE TABLE ${database}.${table} (id int)`,
      `GRANT ${privilege} ON ${database}.${table} TO '${username}'@'%'`,
    ]);
  }
  return table;
}

async function payloadOf(harness: RotationHarness, secret: ManagedSecret, version: number) {
  return JSON.parse(await harness.store.accessVersion(secret.name, version)) as Record<
    string,
    unknown
  > & { username: string; password: string };
}

async function readsTable(
  harness: RotationHarness,
  secret: ManagedSecret,
  version: number,
  table: string,
): Promise<boolean> {
  const p = await payloadOf(harness, secret, version);
  harness.passwords.add(p.password);
  const { engine, database } = secret.fixture;
  if (engine === 'postgres') {
    const c = new Client({ ...secret.server, user: p.username, password: p.password, database });
    await c.connect();
    try {
      await c.query(`SELECT count(*) FROM ${table}`);
      return true;
    } catch {
      return false;
    } finally {
      await c.end();
    }
  }
  const c = await mysql.createConnection({
    host: secret.server.host,
    port: secret.server.port,
    user: p.username,
    password: p.password,
    database,
  });
  try {
    await c.query(`SELECT count(*) FROM ${table}`);
    return true;
  } catch {
    return false;
  } finally {
    await c.end();
  }
}

// A second rotation waits while `previous` is in its grace window (invariant 4): these tests
// rotate again once a 1 s grace has passed (grace-window.test.ts covers the wait itself).
const SHORT_GRACE = { annotations: { [CONFIG_KEYS.gracePeriod]: '1s' } };
const afterGrace = () => new Promise((r) => setTimeout(r, 1100));

describe.each(['postgres', 'mariadb'] as const)('alternating-users parity on %s', (engine) => {
  it('a grant added to the live login between two rotations reaches the other login', async () => {
    const secret = await h.createManagedSecret({
      engine,
      strategy: 'alternating-users',
      ...SHORT_GRACE,
    });
    await expect(handleRotationRequest(requestFor(secret), h.deps)).resolves.toMatchObject({
      action: 'completed',
      version: 2,
    });
    // MariaDB: granted to the live login (the clone), copied by sync. PostgreSQL: the clone acts
    // as the first login (its `SET role`), so grants go to that one; the clone inherits them.
    const live = (await payloadOf(h, secret, 2)).username;
    const table = await grantNewTable(
      secret,
      engine === 'postgres' ? secret.fixture.username : live,
    );
    await expect(readsTable(h, secret, 2, table)).resolves.toBe(true);
    // The next rotation makes the first login current again: it must read the new table too.
    await afterGrace();
    await expect(handleRotationRequest(requestFor(secret), h.deps)).resolves.toMatchObject({
      action: 'completed',
      version: 3,
    });
    await expect(readsTable(h, secret, 3, table)).resolves.toBe(true);
    // And once more, the other way round.
    await afterGrace();
    await expect(handleRotationRequest(requestFor(secret), h.deps)).resolves.toMatchObject({
      action: 'completed',
      version: 4,
    });
    await expect(readsTable(h, secret, 4, table)).resolves.toBe(true);
  });

  it('a grant the other login lacks fails the rotation before promote: rollback, one ERROR naming it, current works', async () => {
    const harness = engine === 'postgres' ? h : noSync;
    const secret = await harness.createManagedSecret({
      engine,
      strategy: 'alternating-users',
      ...SHORT_GRACE,
    });
    await handleRotationRequest(requestFor(secret), harness.deps);
    const live = await payloadOf(harness, secret, 2);
    // PostgreSQL: a direct grant to the clone (which the first login does not inherit);
    // MariaDB: a grant that sync (removed here) would have copied, and that no database-wide
    // grant of the first login covers.
    const table = await grantNewTable(
      secret,
      live.username,
      engine === 'postgres' ? 'SELECT' : 'INSERT',
    );
    const before = harness.sink.lines.length;
    await afterGrace();
    const result = await handleRotationRequest(requestFor(secret), harness.deps);
    expect(result).toMatchObject({ action: 'failed' });
    const s = await harness.snapshot(secret);
    const last = s.history[0];
    expect(last?.outcome).toBe('failed');
    expect(last?.error).toMatch(
      new RegExp(
        `^privilege parity: ${secret.fixture.username} lacks ${engine === 'postgres' ? 'SELECT on' : 'INSERT ON'} .*${table}.* that ${live.username} has`,
      ),
    );
    // The current login still works; the pending one is locked again.
    const current = s.secret.aliases.current as number;
    expect((await payloadOf(harness, secret, current)).username).toBe(live.username);
    await expect(harness.versionLogsIn(secret, current)).resolves.toBe(true);
    const [, pending] = harness.addedCredentials(secret);
    expect(pending?.username).toBe(secret.fixture.username);
    await expect(
      canLogin(
        engine,
        secret.server,
        secret.fixture.database,
        pending?.username ?? '',
        pending?.password ?? '',
      ),
    ).resolves.toBe(false);
    const errors = harness.sink.lines.slice(before).filter((l) => l.includes('"severity":"ERROR"'));
    expect(errors.filter((l) => l.includes('privilege parity'))).toHaveLength(1);
  });
});

describe('the payload round-trips exactly', () => {
  it.each([
    ['postgres', 'alternating-users'],
    ['mariadb', 'dual-password'],
  ] as const)(
    '%s %s: every field but username and password is copied, type, value and order',
    async (engine, strategy) => {
      const secret = await h.createManagedSecret({ engine, strategy });
      const base = loginPayload(secret.fixture);
      const odd = {
        note: null,
        enabled: true,
        retries: 0,
        ratio: 0.25,
        host: base.host,
        port: String(base.port),
        tags: ['a', 1, false, null, { deep: [] }],
        database: base.database,
        options: { sslmode: 'disable', nested: { empty: {}, list: [1.5, -2] } },
        username: base.username,
        'ünïcødé key': 'välüe ✓',
        password: base.password,
        jdbcUrl: base.jdbcUrl,
      };
      const v = await h.addVersion(secret.name, odd);
      const result = await handleRotationRequest(requestFor(secret), h.deps);
      expect(result).toMatchObject({ action: 'completed', version: v + 1 });
      const next = await payloadOf(h, secret, v + 1);
      const { username: _u, password: _p, ...kept } = next;
      const { username: _ou, password: _op, ...expected } = odd;
      expect(kept).toStrictEqual(expected);
      expect(Object.keys(next)).toEqual(Object.keys(odd));
      expect(typeof next.port).toBe('string');
      await expect(h.versionLogsIn(secret, v + 1)).resolves.toBe(true);
    },
  );
});

describe('the admin secret', () => {
  async function adminSecretWith(
    versions: Array<{ payload: Record<string, unknown>; disabled?: boolean }>,
  ): Promise<string> {
    const id = `admin-${randomBytes(4).toString('hex')}`;
    const name = `projects/${PROJECT}/secrets/${id}`;
    await h.client.createSecret({
      parent: `projects/${PROJECT}`,
      secretId: id,
      secret: { replication: { automatic: {} } },
    });
    for (const { payload, disabled } of versions) {
      const n = await h.addVersion(name, payload);
      if (disabled) await h.client.disableSecretVersion({ name: `${name}/versions/${n}` });
    }
    return name;
  }

  it('with a disabled newest version: read at its newest enabled version, the rotation succeeds', async () => {
    const server = h.databases.postgres;
    const good = adminPayload('postgres', server);
    const adminSecret = await adminSecretWith([
      { payload: good },
      { payload: { ...good, password: 'rolled-back-bad-value' }, disabled: true },
    ]);
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'alternating-users',
      annotations: { [CONFIG_KEYS.adminSecret]: adminSecret },
    });
    await expect(handleRotationRequest(requestFor(secret), h.deps)).resolves.toMatchObject({
      action: 'completed',
      version: 2,
    });
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
  });

  it('says which version it tried when that one cannot be read', async () => {
    const good = adminPayload('mariadb', h.databases.mariadb);
    const none = await adminSecretWith([{ payload: good, disabled: true }]);
    await expect(readCurrentValue(h.store, none)).rejects.toThrow(
      `secret ${none} has no enabled version to read`,
    );
    const aliased = await adminSecretWith([{ payload: good }, { payload: good }]);
    const [secret] = await h.client.getSecret({ name: aliased });
    await h.client.updateSecret({
      secret: { name: aliased, versionAliases: { current: 1 }, etag: secret.etag },
      updateMask: { paths: ['version_aliases'] },
    });
    await h.client.disableSecretVersion({ name: `${aliased}/versions/1` });
    await expect(readCurrentValue(h.store, aliased)).rejects.toThrow(
      `reading secret ${aliased} at version 1 (its current alias) failed`,
    );
  });
});

it('the test servers reject a wrong password', async () => {
  const s = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
  await expect(
    canLogin('postgres', s.server, s.fixture.database, s.fixture.username, 'wrong-password'),
  ).resolves.toBe(false);
});
