import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import mysql from 'mysql2/promise';
import { type MariadbServer, startMariadb } from '../../../devtools/mariadb-server';
import type { Credential, Endpoint } from '../../../shared/engines/engine';
import { createMysqlEngine } from '../../../shared/engines/mysql';
import { PermanentError } from '../../../shared/errors';
import { generatePassword } from '../../../shared/rotation/password';
import { STRATEGY_IMPLS } from '../../../shared/rotation/strategies';

/**
 * MariaDB with a password-validation plugin (simple_password_check, and its default
 * strict_password_validation=ON) and the ed25519 authentication plugin, on a server of this
 * suite's own: the strategies rotate through the engine as the rotator drives them.
 */
let server: MariadbServer;
let admin: mysql.Connection;
let endpoint: Endpoint;
const engine = createMysqlEngine({ dialect: 'mariadb' });
const adminCred = (): Credential => ({
  username: server.adminUser,
  password: server.adminPassword,
});

// What the rotator generates, redrawn until it also has a symbol (simple_password_check wants one;
// a 32-character draw lacks one about once in 30 000).
function policyPassword(): string {
  for (;;) {
    const pw = generatePassword('mariadb', { length: 32, exclude: '' }, randomBytes);
    if (/[^A-Za-z0-9]/.test(pw)) return pw;
  }
}

async function newLogin(): Promise<Credential> {
  const login = { username: `u_${randomBytes(3).toString('hex')}`, password: policyPassword() };
  await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [login.username, '%', login.password]);
  await admin.query('GRANT SELECT ON mysql.db TO ?@?', [login.username, '%']);
  return login;
}

const logsIn = async (c: Credential) => (await engine.tryLogin(endpoint, c)).ok;

beforeAll(async () => {
  server = await startMariadb({ plugins: ['simple_password_check', 'auth_ed25519'] });
  endpoint = { host: server.host, port: server.port, database: 'mysql' };
  admin = await mysql.createConnection({
    host: server.host,
    port: server.port,
    user: server.adminUser,
    password: server.adminPassword,
  });
});
afterAll(async () => {
  await admin?.end();
  await server?.stop();
});

it('the server enforces the policy, and refuses a password given as a hash (the old statement)', async () => {
  const [[facts]] = (await admin.query(
    "SELECT @@strict_password_validation AS strict, (SELECT GROUP_CONCAT(PLUGIN_NAME) FROM information_schema.PLUGINS WHERE PLUGIN_TYPE = 'PASSWORD VALIDATION' AND PLUGIN_STATUS = 'ACTIVE') AS validation",
  )) as unknown as [Array<{ strict: number; validation: string }>];
  expect(facts).toEqual({ strict: 1, validation: 'simple_password_check' });
  const login = await newLogin();
  await expect(
    admin.query('ALTER USER ?@? IDENTIFIED VIA mysql_native_password USING PASSWORD(?)', [
      login.username,
      '%',
      'weak',
    ]),
  ).rejects.toMatchObject({ errno: 1396 });
  await expect(
    admin.query(
      "ALTER USER ?@? IDENTIFIED VIA mysql_native_password USING '*0123456789ABCDEF0123456789ABCDEF01234567'",
      [login.username, '%'],
    ),
  ).rejects.toMatchObject({ errno: 1396 });
});

it('dual-password rotates: both passwords log in, then only the new one', async () => {
  const current = await newLogin();
  const pending = { ...current, password: policyPassword() };
  const strategy = STRATEGY_IMPLS['dual-password'];
  await engine.withSession(endpoint, adminCred(), (s) => strategy.apply(s, current, pending));
  expect(await logsIn(current)).toBe(true);
  expect(await logsIn(pending)).toBe(true);
  await engine.withSession(endpoint, adminCred(), (s) => strategy.revoke(s, current, pending));
  expect(await logsIn(current)).toBe(false);
  expect(await logsIn(pending)).toBe(true);
});

it('alternating-users rotates there and back, with parity proven each time', async () => {
  const first = await newLogin();
  const clone = { username: `${first.username}_clone`, password: policyPassword() };
  const strategy = STRATEGY_IMPLS['alternating-users'];
  const rotate = (current: Credential, pending: Credential) =>
    engine.withSession(endpoint, adminCred(), async (s) => {
      await strategy.apply(s, current, pending);
      return s.privilegeGap(pending.username, current.username);
    });
  await expect(rotate(first, clone)).resolves.toBeUndefined();
  expect(await logsIn(clone)).toBe(true);
  const back = { ...first, password: policyPassword() };
  await expect(rotate(clone, back)).resolves.toBeUndefined();
  expect(await logsIn(back)).toBe(true);
  expect(await logsIn(clone)).toBe(true);
});

it('a pair the policy refuses: the error names the policy, never a password', async () => {
  const current = await newLogin();
  const next = policyPassword();
  const err = await engine
    .withSession(endpoint, adminCred(), (s) => s.addPassword(current.username, next, 'weak'))
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PermanentError);
  expect((err as Error).message).toContain(
    'password policy: password-validation plugins simple_password_check, strict_password_validation=ON',
  );
  expect(inspect(err, { depth: 6 })).not.toContain(next);
  expect(await logsIn(current)).toBe(true);
});

it('an ed25519 account: dual-password refuses clearly, before changing anything', async () => {
  const user = `e_${randomBytes(3).toString('hex')}`;
  const password = policyPassword();
  await admin.query('CREATE USER ?@? IDENTIFIED VIA ed25519 USING PASSWORD(?)', [
    user,
    '%',
    password,
  ]);
  const pluginOf = async () => {
    const [rows] = await admin.query(
      "SELECT JSON_VALUE(Priv, '$.plugin') AS plugin, JSON_EXTRACT(Priv, '$.auth_or') AS alternatives FROM mysql.global_priv WHERE User = ?",
      [user],
    );
    return rows;
  };
  const before = await pluginOf();
  expect(before).toEqual([{ plugin: 'ed25519', alternatives: null }]);
  const reason = await engine.withSession(endpoint, adminCred(), (s) =>
    s.dualPasswordBlocker(user),
  );
  expect(reason).toMatch(/authenticates with ed25519, which the rotator cannot log in with/);
  const err = await engine
    .withSession(endpoint, adminCred(), (s) => s.addPassword(user, policyPassword(), password))
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PermanentError);
  expect((err as Error).message).toMatch(/dual-password cannot rotate .*ed25519/);
  // Not moved to mysql_native_password, not given a second alternative.
  expect(await pluginOf()).toEqual(before);
});
