import mysql from 'mysql2/promise';
import { Client } from 'pg';
import type { TestServerAddress } from './databases';
import type { FixtureEngine } from './db-fixtures';

/**
 * Another session holds a lock that any change of `login` must wait for, until the returned
 * release is called: on PostgreSQL an uncommitted ALTER ROLE of that login (its catalog row), on
 * MariaDB a read lock on the privilege table (not transactional: table locks only). The stall of
 * the fencing tests: a real database call that waits as long as the lock is held.
 */
export async function holdLock(
  engine: FixtureEngine,
  server: TestServerAddress,
  login: string,
): Promise<() => Promise<void>> {
  if (engine === 'postgres') {
    const c = new Client({
      host: server.host,
      port: server.port,
      user: server.adminUser,
      password: server.adminPassword,
      database: 'postgres',
    });
    await c.connect();
    await c.query('BEGIN');
    await c.query(`ALTER ROLE "${login}" CONNECTION LIMIT 7`);
    return async () => {
      await c.query('ROLLBACK');
      await c.end();
    };
  }
  const c = await mysql.createConnection({
    host: server.host,
    port: server.port,
    user: server.adminUser,
    password: server.adminPassword,
  });
  await c.query('LOCK TABLES mysql.global_priv READ');
  return async () => {
    await c.query('UNLOCK TABLES');
    await c.end();
  };
}
