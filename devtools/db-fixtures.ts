import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { Client } from 'pg';
import type { TestServerAddress } from './databases';

/**
 * Database fixtures for rotation tests, written with the raw drivers on purpose: the tests check
 * the rotator's effect on the database with code that shares nothing with the engines under test.
 */
export type FixtureEngine = 'postgres' | 'mariadb';

export interface LoginFixture {
  engine: FixtureEngine;
  server: TestServerAddress;
  database: string;
  username: string;
  password: string;
  /** A table the login (and its alternate) can read: the test query target. */
  table: string;
  /** PostgreSQL: the NOLOGIN role owning the objects, of which the logins are members. */
  ownerRole?: string;
}

export const fixturePassword = () => `Init-${randomBytes(12).toString('hex')}`;

async function pgAdmin<T>(
  server: TestServerAddress,
  fn: (c: Client) => Promise<T>,
  database = 'postgres',
): Promise<T> {
  const c = new Client({
    host: server.host,
    port: server.port,
    user: server.adminUser,
    password: server.adminPassword,
    database,
  });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function mariaAdmin<T>(
  server: TestServerAddress,
  fn: (c: mysql.Connection) => Promise<T>,
): Promise<T> {
  const c = await mysql.createConnection({
    host: server.host,
    port: server.port,
    user: server.adminUser,
    password: server.adminPassword,
  });
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A login that is a member of a NOLOGIN owner role, which owns a table with one row. */
export async function createLogin(
  engine: FixtureEngine,
  server: TestServerAddress,
  id: string,
): Promise<LoginFixture> {
  const username = `app_${id}`;
  const password = fixturePassword();
  if (engine === 'postgres') {
    const ownerRole = `owner_${id}`;
    const table = `orders_${id}`;
    await pgAdmin(server, async (c) => {
      await c.query(`CREATE ROLE ${ownerRole} NOLOGIN`);
      await c.query(
        `CREATE ROLE ${username} LOGIN PASSWORD ${c.escapeLiteral(password)} IN ROLE ${ownerRole}`,
      );
      await c.query(`CREATE TABLE ${table} (id int)`);
      await c.query(`INSERT INTO ${table} VALUES (1)`);
      await c.query(`ALTER TABLE ${table} OWNER TO ${ownerRole}`);
    });
    return { engine, server, database: 'postgres', username, password, table, ownerRole };
  }
  const database = `db_${id}`;
  await mariaAdmin(server, async (c) => {
    await c.query(`CREATE DATABASE ${database}`);
    await c.query(`CREATE TABLE ${database}.orders (id int)`);
    await c.query(`INSERT INTO ${database}.orders VALUES (1)`);
    await c.query('CREATE USER ?@? IDENTIFIED BY ?', [username, '%', password]);
    await c.query(`GRANT SELECT ON ${database}.* TO ?@?`, [username, '%']);
  });
  return { engine, server, database, username, password, table: 'orders' };
}

/** Whether the server accepts this login (a real connection and `SELECT 1`). */
export async function canLogin(
  engine: FixtureEngine,
  server: TestServerAddress,
  database: string,
  username: string,
  password: string,
): Promise<boolean> {
  if (engine === 'postgres') {
    const c = new Client({
      host: server.host,
      port: server.port,
      user: username,
      password,
      database,
      connectionTimeoutMillis: 5000,
    });
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === '28P01' || code === '28000') return false;
      throw err;
    } finally {
      await c.end().catch(() => undefined);
    }
  }
  try {
    const c = await mysql.createConnection({
      host: server.host,
      port: server.port,
      user: username,
      password,
      database,
      connectTimeout: 5000,
    });
    await c.query('SELECT 1');
    await c.end();
    return true;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (
      code === 'ER_ACCESS_DENIED_ERROR' ||
      code === 'ER_ACCOUNT_HAS_BEEN_LOCKED' ||
      (err as { errno?: number }).errno === 4151
    )
      return false;
    throw err;
  }
}

/** Admin credentials as the payload of an admin secret. */
export function adminPayload(
  engine: FixtureEngine,
  server: TestServerAddress,
): Record<string, unknown> {
  return {
    host: server.host,
    port: server.port,
    database: engine === 'postgres' ? 'postgres' : 'mysql',
    username: server.adminUser,
    password: server.adminPassword,
  };
}

export function loginPayload(
  f: LoginFixture,
  username = f.username,
  password = f.password,
): Record<string, unknown> {
  return {
    host: f.server.host,
    port: f.server.port,
    database: f.database,
    username,
    password,
    jdbcUrl: `jdbc:${f.engine === 'postgres' ? 'postgresql' : 'mariadb'}://${f.server.host}:${f.server.port}/${f.database}`,
  };
}
