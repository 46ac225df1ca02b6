import { randomBytes } from 'node:crypto';
import { Client, escapeIdentifier as id, escapeLiteral as lit } from 'pg';
import type { TestServerAddress } from '../../../devtools/databases';
import { startPostgres } from '../../../devtools/postgres-server';
import type { Credential, Endpoint } from '../../../shared/engines/engine';
import { createPostgresEngine } from '../../../shared/engines/postgres';
import { type EngineContractContext, newPassword, type RawSession } from './contract';

/**
 * Fixtures on the run's PostgreSQL: per suite a NOLOGIN owner role owning a schema and a table;
 * each application login is a member of it, with `SET role = owner` (so what it creates belongs to
 * the owner role) and a search_path of two elements (to prove list settings are copied intact).
 */
export async function makePostgresContext(
  server: TestServerAddress,
): Promise<EngineContractContext> {
  const suffix = randomBytes(3).toString('hex');
  const owner = `owner_${suffix}`;
  const schema = `s_${suffix}`;
  const endpoint: Endpoint = { host: server.host, port: server.port, database: 'postgres' };
  const admin: Credential = { username: server.adminUser, password: server.adminPassword };

  const connectAs = async (login: Credential) => {
    const client = new Client({
      host: server.host,
      port: server.port,
      database: 'postgres',
      user: login.username,
      password: login.password,
    });
    await client.connect();
    return client;
  };
  const adminClient = await connectAs(admin);
  const created: string[] = [];
  await adminClient.query(`CREATE ROLE ${id(owner)} NOLOGIN`);
  await adminClient.query(`CREATE SCHEMA ${id(schema)} AUTHORIZATION ${id(owner)}`);
  await adminClient.query(`CREATE TABLE ${id(schema)}.items (id int)`);
  await adminClient.query(`ALTER TABLE ${id(schema)}.items OWNER TO ${id(owner)}`);
  await adminClient.query(`INSERT INTO ${id(schema)}.items VALUES (1), (2), (3)`);

  const ownerOf = async (table: string) => {
    const { rows } = await adminClient.query(
      'SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = $2',
      [schema, table],
    );
    return rows[0]?.tableowner as string | undefined;
  };

  return {
    engine: createPostgresEngine(),
    engineWith: (deps) => createPostgresEngine(deps),
    endpoint,
    admin,
    async createAppLogin() {
      const login = {
        username: `app_${suffix}_${randomBytes(3).toString('hex')}`,
        password: newPassword(),
      };
      await adminClient.query(
        `CREATE ROLE ${id(login.username)} LOGIN PASSWORD ${lit(login.password)} IN ROLE ${id(owner)}`,
      );
      await adminClient.query(`ALTER ROLE ${id(login.username)} SET role = ${lit(owner)}`);
      await adminClient.query(
        `ALTER ROLE ${id(login.username)} SET search_path = ${lit(schema)}, '$user', public`,
      );
      created.push(login.username, `${login.username}_clone`);
      return { login, readQuery: 'SELECT count(*) AS n FROM items' };
    },
    async assertEquivalentClone(template, clone) {
      const { rows } = await adminClient.query(
        `SELECT u.rolname AS member, g.rolname AS "group", u.rolcanlogin AS login
           FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
          WHERE u.rolname = ANY($1) ORDER BY 1, 2`,
        [[template.username, clone.username]],
      );
      // The clone is also a member of the template (AWS's multi-user approach): it inherits what
      // was granted to the template directly and what the template owns.
      expect(rows).toEqual([
        { member: template.username, group: owner, login: true },
        { member: clone.username, group: template.username, login: true },
        { member: clone.username, group: owner, login: true },
      ]);
      const settings = async (name: string) =>
        (
          await adminClient.query(
            'SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = $1',
            [name],
          )
        ).rows[0]?.setconfig;
      expect(await settings(clone.username)).toEqual(await settings(template.username));
      // Objects created by either login belong to the owner role, and each reads the other's.
      for (const [login, table] of [
        [template, `t_${suffix}_a`],
        [clone, `t_${suffix}_b`],
      ] as const) {
        const c = await connectAs(login);
        await c.query(`CREATE TABLE ${id(table)} (id int)`);
        await c.end();
        expect(await ownerOf(table)).toBe(owner);
      }
      for (const [login, table] of [
        [template, `t_${suffix}_b`],
        [clone, `t_${suffix}_a`],
      ] as const) {
        const c = await connectAs(login);
        await expect(c.query(`SELECT count(*) FROM ${id(table)}`)).resolves.toBeDefined();
        await c.end();
      }
    },
    async grantDirect(login, kind) {
      const name = `${kind.slice(0, 1)}_${suffix}_${randomBytes(3).toString('hex')}`;
      const object = `${schema}.${name}`;
      const qualified = `${id(schema)}.${id(name)}`;
      const who = id(login.username);
      // The logins act as the owner role (`SET role`): probes act as the login itself.
      switch (kind) {
        case 'table':
          await adminClient.query(`CREATE TABLE ${qualified} (id int)`);
          await adminClient.query(`GRANT SELECT ON ${qualified} TO ${who}`);
          return { object, probe: `SET ROLE NONE; SELECT count(*) FROM ${qualified}` };
        case 'owned':
          await adminClient.query(`CREATE TABLE ${qualified} (id int)`);
          await adminClient.query(`ALTER TABLE ${qualified} OWNER TO ${who}`);
          return {
            object,
            probe: `SET ROLE NONE; ALTER TABLE ${qualified} ADD COLUMN IF NOT EXISTS c int`,
          };
        case 'sequence':
          await adminClient.query(`CREATE SEQUENCE ${qualified}`);
          await adminClient.query(`GRANT USAGE ON SEQUENCE ${qualified} TO ${who}`);
          return { object, probe: `SET ROLE NONE; SELECT nextval(${lit(`${schema}.${name}`)})` };
        case 'function':
          await adminClient.query(
            `CREATE FUNCTION ${qualified}() RETURNS int LANGUAGE sql AS 'SELECT 1'`,
          );
          await adminClient.query(`REVOKE EXECUTE ON FUNCTION ${qualified}() FROM PUBLIC`);
          await adminClient.query(`GRANT EXECUTE ON FUNCTION ${qualified}() TO ${who}`);
          return { object, probe: `SET ROLE NONE; SELECT ${qualified}()` };
      }
    },
    async writingSelect() {
      const table = `${id(schema)}.${id(`w_${randomBytes(3).toString('hex')}`)}`;
      const fn = `${id(schema)}.${id(`wf_${randomBytes(3).toString('hex')}`)}`;
      await adminClient.query(`CREATE TABLE ${table} (id int)`);
      await adminClient.query(`ALTER TABLE ${table} OWNER TO ${id(owner)}`);
      await adminClient.query(
        `CREATE FUNCTION ${fn}() RETURNS int LANGUAGE sql AS 'INSERT INTO ${table} VALUES (1) RETURNING 1'`,
      );
      return {
        query: `SELECT ${fn}()`,
        rows: async () =>
          Number((await adminClient.query(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n),
      };
    },
    async openRawSession(login): Promise<RawSession> {
      const c = await connectAs(login);
      c.on('error', () => {});
      return {
        query: async (sql) => (await c.query(sql)).rows,
        close: () => c.end(),
      };
    },
    async startOwnServer() {
      const own = await startPostgres();
      return {
        endpoint: { host: own.host, port: own.port, database: 'postgres' },
        admin: { username: own.adminUser, password: own.adminPassword },
        kill: () => own.kill(),
        start: () => own.start(),
        stop: () => own.stop(),
      };
    },
    async close() {
      await adminClient.query(`DROP SCHEMA ${id(schema)} CASCADE`);
      for (const name of created) {
        await adminClient.query(`DROP OWNED BY ${id(name)} CASCADE`).catch(() => {});
        await adminClient.query(`DROP ROLE IF EXISTS ${id(name)}`);
      }
      await adminClient.query(`DROP ROLE ${id(owner)}`);
      await adminClient.end();
    },
  };
}
