import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { TestServerAddress } from '../../../devtools/databases';
import { startMariadb } from '../../../devtools/mariadb-server';
import type { Credential, Endpoint } from '../../../shared/engines/engine';
import { createMysqlEngine } from '../../../shared/engines/mysql';
import { type EngineContractContext, newPassword, type RawSession } from './contract';

/**
 * Fixtures on the run's MariaDB: per suite a database with a table and a role that may read it;
 * each application login holds the role (as its default role) and one direct grant, so the clone
 * must copy both kinds.
 */
export async function makeMariadbContext(
  server: TestServerAddress,
): Promise<EngineContractContext> {
  const suffix = randomBytes(3).toString('hex');
  const database = `app_${suffix}`;
  const role = `reader_${suffix}`;
  const endpoint: Endpoint = { host: server.host, port: server.port, database };
  const admin: Credential = { username: server.adminUser, password: server.adminPassword };

  const connectAs = (login: Credential, db: string | null = database) =>
    mysql.createConnection({
      host: server.host,
      port: server.port,
      user: login.username,
      password: login.password,
      ...(db ? { database: db } : {}),
    });
  const adminConn = await connectAs(admin, null);
  const created: string[] = [];
  await adminConn.query('CREATE DATABASE ??', [database]);
  await adminConn.query('CREATE TABLE ??.items (id int)', [database]);
  await adminConn.query('INSERT INTO ??.items VALUES (1), (2), (3)', [database]);
  await adminConn.query('CREATE ROLE ??', [role]);
  await adminConn.query('GRANT SELECT ON ??.* TO ??', [database, role]);

  const grantsOf = async (user: string) => {
    const [rows] = await adminConn.query('SHOW GRANTS FOR ?@?', [user, '%']);
    return (rows as Record<string, string>[])
      .map((r) => String(Object.values(r)[0]))
      .map((g) =>
        g.replaceAll(`\`${user}\``, '`<login>`').replace(/ IDENTIFIED BY PASSWORD '[^']*'/, ''),
      )
      .sort();
  };

  return {
    engine: createMysqlEngine({ dialect: 'mariadb' }),
    engineWith: (deps) => createMysqlEngine({ dialect: 'mariadb', ...deps }),
    endpoint,
    admin,
    async createAppLogin() {
      const login = {
        username: `app_${suffix}_${randomBytes(3).toString('hex')}`,
        password: newPassword(),
      };
      await adminConn.query('CREATE USER ?@? IDENTIFIED BY ?', [
        login.username,
        '%',
        login.password,
      ]);
      await adminConn.query('GRANT ?? TO ?@?', [role, login.username, '%']);
      await adminConn.query('SET DEFAULT ROLE ?? FOR ?@?', [role, login.username, '%']);
      await adminConn.query('GRANT INSERT, DELETE ON ??.items TO ?@?', [
        database,
        login.username,
        '%',
      ]);
      created.push(login.username, `${login.username}_clone`);
      return { login, readQuery: 'SELECT count(*) AS n FROM items' };
    },
    async assertEquivalentClone(template, clone) {
      const [hosts] = await adminConn.query('SELECT Host AS host FROM mysql.user WHERE User = ?', [
        clone.username,
      ]);
      expect(hosts).toEqual([{ host: '%' }]);
      const cloneGrants = await grantsOf(clone.username);
      expect(cloneGrants).toEqual(await grantsOf(template.username));
      expect(cloneGrants).toContain(`GRANT \`${role}\` TO \`<login>\`@\`%\``);
      // The clone holds the role by default and the direct grant: it can read and insert.
      const c = await connectAs(clone);
      await c.query('INSERT INTO items VALUES (4)');
      const [rows] = await c.query('SELECT count(*) AS n FROM items');
      await c.end();
      expect(Number((rows as { n: number }[])[0]?.n)).toBeGreaterThanOrEqual(4);
    },
    async grantDirect(login, kind) {
      const name = `${kind.slice(0, 1)}_${randomBytes(3).toString('hex')}`;
      const object = `\`${database}\`.\`${name}\``;
      const grantee = [login.username, '%'];
      switch (kind) {
        case 'table':
          await adminConn.query('CREATE TABLE ??.?? (id int)', [database, name]);
          await adminConn.query('GRANT SELECT ON ??.?? TO ?@?', [database, name, ...grantee]);
          return { object, probe: `SELECT count(*) FROM ${name}` };
        case 'owned':
          // No owners in MariaDB: every right on the table is the closest thing.
          await adminConn.query('CREATE TABLE ??.?? (id int)', [database, name]);
          await adminConn.query('GRANT ALL ON ??.?? TO ?@?', [database, name, ...grantee]);
          return { object, probe: `ALTER TABLE ${name} ADD COLUMN IF NOT EXISTS c int` };
        case 'sequence':
          await adminConn.query('CREATE SEQUENCE ??.??', [database, name]);
          await adminConn.query('GRANT SELECT, INSERT ON ??.?? TO ?@?', [
            database,
            name,
            ...grantee,
          ]);
          return { object, probe: `SELECT NEXTVAL(${name})` };
        case 'function':
          await adminConn.query(
            `CREATE FUNCTION \`${database}\`.\`${name}\`() RETURNS INT DETERMINISTIC RETURN 1`,
          );
          await adminConn.query('GRANT EXECUTE ON FUNCTION ??.?? TO ?@?', [
            database,
            name,
            ...grantee,
          ]);
          return { object, probe: `SELECT ${name}()` };
      }
    },
    async writingSelect(login) {
      const table = `w_${randomBytes(3).toString('hex')}`;
      const fn = `wf_${randomBytes(3).toString('hex')}`;
      await adminConn.query('CREATE TABLE ??.?? (id int)', [database, table]);
      await adminConn.query(
        `CREATE FUNCTION \`${database}\`.\`${fn}\`() RETURNS INT MODIFIES SQL DATA BEGIN INSERT INTO \`${database}\`.\`${table}\` VALUES (1); RETURN 1; END`,
      );
      await adminConn.query('GRANT EXECUTE ON FUNCTION ??.?? TO ?@?', [
        database,
        fn,
        login.username,
        '%',
      ]);
      return {
        query: `SELECT ${fn}()`,
        rows: async () => {
          const [rows] = await adminConn.query('SELECT count(*) AS n FROM ??.??', [
            database,
            table,
          ]);
          return Number((rows as { n: number }[])[0]?.n);
        },
      };
    },
    async openRawSession(login): Promise<RawSession> {
      const c = await connectAs(login);
      c.on('error', () => {});
      return {
        query: async (sql) => (await c.query(sql))[0] as unknown[],
        close: () => c.end(),
      };
    },
    async startOwnServer() {
      const own = await startMariadb();
      return {
        endpoint: { host: own.host, port: own.port, database: 'mysql' },
        admin: { username: own.adminUser, password: own.adminPassword },
        kill: () => own.kill(),
        start: () => own.start(),
        stop: () => own.stop(),
      };
    },
    async close() {
      for (const user of created) await adminConn.query('DROP USER IF EXISTS ?@?', [user, '%']);
      await adminConn.query('DROP ROLE IF EXISTS ??', [role]);
      await adminConn.query('DROP DATABASE IF EXISTS ??', [database]);
      await adminConn.end();
    },
  };
}
