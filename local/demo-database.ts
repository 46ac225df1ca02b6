import mysql from 'mysql2/promise';
import { Client } from 'pg';
import type { LocalDatabase } from './database';

/**
 * The demo's objects in the local database, written with the raw drivers (the rotator's engines
 * only change logins; creating an owner role and a table is the operator's job, done here for
 * them). PostgreSQL: a NOLOGIN owner role owning one table, and the demo login as its member, so
 * the alternate login the rotator creates inherits the same rights. MySQL/MariaDB: a database
 * `gsm_demo` with one table, readable by the demo login.
 */
export const DEMO_LOGIN = 'gsm_demo_app';
const OWNER_ROLE = 'gsm_demo_owner';
const PG_TABLE = 'gsm_demo_orders';
const MYSQL_DATABASE = 'gsm_demo';

export interface DemoTarget {
  /** The database the demo login connects to. */
  database: string;
  /** What the rotator's test step runs after logging in with a new credential. */
  testQuery: string;
}

export function demoTarget(db: LocalDatabase): DemoTarget {
  return db.engine === 'postgres'
    ? { database: db.database, testQuery: `SELECT count(*) FROM ${PG_TABLE}` }
    : { database: MYSQL_DATABASE, testQuery: 'SELECT count(*) FROM orders' };
}

async function withPg<T>(db: LocalDatabase, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({
    host: db.host,
    port: db.port,
    user: db.adminUser,
    password: db.adminPassword,
    database: db.database,
  });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function withMysql<T>(
  db: LocalDatabase,
  fn: (c: mysql.Connection) => Promise<T>,
): Promise<T> {
  const c = await mysql.createConnection({
    host: db.host,
    port: db.port,
    user: db.adminUser,
    password: db.adminPassword,
  });
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Creates the owner role / database and the table, if missing. Idempotent. */
export async function ensureDemoObjects(db: LocalDatabase): Promise<void> {
  if (db.engine === 'postgres') {
    await withPg(db, async (c) => {
      const owner = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [OWNER_ROLE]);
      if (owner.rowCount === 0) await c.query(`CREATE ROLE ${OWNER_ROLE} NOLOGIN`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${PG_TABLE} (id int)`);
      await c.query(`ALTER TABLE ${PG_TABLE} OWNER TO ${OWNER_ROLE}`);
      const rows = await c.query(`SELECT count(*)::int AS n FROM ${PG_TABLE}`);
      if ((rows.rows[0] as { n: number }).n === 0)
        await c.query(`INSERT INTO ${PG_TABLE} VALUES (1)`);
    });
    return;
  }
  await withMysql(db, async (c) => {
    await c.query(`CREATE DATABASE IF NOT EXISTS ${MYSQL_DATABASE}`);
    await c.query(`CREATE TABLE IF NOT EXISTS ${MYSQL_DATABASE}.orders (id int)`);
    const [rows] = await c.query(`SELECT count(*) AS n FROM ${MYSQL_DATABASE}.orders`);
    if ((rows as { n: number }[])[0]?.n === 0) {
      await c.query(`INSERT INTO ${MYSQL_DATABASE}.orders VALUES (1)`);
    }
  });
}

/**
 * Makes `username` log in with `password` and read the demo table: created if missing (a fresh
 * throwaway server after a restart), its password set if it exists. Names come from our own
 * constants or the secret's payload, which the payload schema restricts to identifier characters;
 * they are quoted anyway.
 */
export async function ensureLogin(
  db: LocalDatabase,
  username: string,
  password: string,
): Promise<void> {
  if (db.engine === 'postgres') {
    await withPg(db, async (c) => {
      const name = c.escapeIdentifier(username);
      const exists = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [username]);
      if (exists.rowCount === 0) {
        await c.query(
          `CREATE ROLE ${name} LOGIN PASSWORD ${c.escapeLiteral(password)} IN ROLE ${OWNER_ROLE}`,
        );
      } else {
        await c.query(`ALTER ROLE ${name} WITH LOGIN PASSWORD ${c.escapeLiteral(password)}`);
        await c.query(`GRANT ${OWNER_ROLE} TO ${name}`);
      }
    });
    return;
  }
  await withMysql(db, async (c) => {
    await c.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [username, '%', password]);
    await c.query('ALTER USER ?@? IDENTIFIED BY ? ACCOUNT UNLOCK', [username, '%', password]);
    await c.query(`GRANT SELECT ON ${MYSQL_DATABASE}.* TO ?@?`, [username, '%']);
  });
}

/** The logins the demo leaves: its own, and the alternate the rotator creates (`<login>_clone`). */
export const DEMO_LOGINS = [DEMO_LOGIN, `${DEMO_LOGIN}_clone`] as const;

/**
 * Removes what the demo created on a server (`npm start -- --cleanup`): its logins, then the
 * owner role and table (PostgreSQL) or the `gsm_demo` database (MySQL/MariaDB). Only these fixed
 * names, so nothing of the user's is touched. The table goes before its owner role (a role that
 * owns objects cannot be dropped); the logins own nothing. Returns what existed and was dropped.
 */
export async function dropDemoObjects(db: LocalDatabase): Promise<string[]> {
  const dropped: string[] = [];
  if (db.engine === 'postgres') {
    await withPg(db, async (c) => {
      for (const role of [...DEMO_LOGINS, OWNER_ROLE]) {
        if (role === OWNER_ROLE) {
          const table = await c.query('SELECT to_regclass($1) AS t', [PG_TABLE]);
          if ((table.rows[0] as { t: string | null }).t !== null) {
            await c.query(`DROP TABLE ${c.escapeIdentifier(PG_TABLE)}`);
            dropped.push(`table ${PG_TABLE}`);
          }
        }
        const exists = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
        if (exists.rowCount === 0) continue;
        const name = c.escapeIdentifier(role);
        await c.query(`DROP ROLE ${name}`);
        dropped.push(`role ${role}`);
      }
    });
    return dropped;
  }
  await withMysql(db, async (c) => {
    for (const login of DEMO_LOGINS) {
      const [rows] = await c.query('SELECT 1 FROM mysql.user WHERE User = ? AND Host = ?', [
        login,
        '%',
      ]);
      if ((rows as unknown[]).length === 0) continue;
      await c.query('DROP USER ?@?', [login, '%']);
      dropped.push(`user ${login}`);
    }
    const [dbs] = await c.query('SHOW DATABASES LIKE ?', [MYSQL_DATABASE]);
    if ((dbs as unknown[]).length > 0) {
      await c.query(`DROP DATABASE ${MYSQL_DATABASE}`);
      dropped.push(`database ${MYSQL_DATABASE}`);
    }
  });
  return dropped;
}
