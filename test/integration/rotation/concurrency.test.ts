import { Client } from 'pg';
import { testDatabasesFromEnv } from '../../../devtools/databases';
import { createLogin } from '../../../devtools/db-fixtures';
import { engineFor } from '../../../shared/engines/registry';
import { TransientError } from '../../../shared/errors';

/**
 * Two workers that both reach the database for one login (a takeover while the first is still in
 * a lock wait) meet the database's concurrency errors. A retry on fresh state succeeds, so the
 * engines must answer them as transient (a redelivery), never as a failed rotation (an alert).
 */
const db = testDatabasesFromEnv();

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('PostgreSQL: the second of two racing ALTER ROLE on one login is transient (XX000)', async () => {
  // Prepare: session A changes the login's password in an open transaction.
  const server = db.postgres;
  const login = await createLogin('postgres', server, `race${Date.now() % 1e6}`);
  const a = new Client({
    host: server.host,
    port: server.port,
    user: server.adminUser,
    password: server.adminPassword,
    database: 'postgres',
  });
  await a.connect();
  try {
    // Act: the engine's session B (connected first) changes the same login while A's change is
    // uncommitted, so it waits on A's row.
    const engine = engineFor('postgres');
    const admin = { username: server.adminUser, password: server.adminPassword };
    const endpoint = { host: server.host, port: server.port, database: 'postgres' };
    let connected: () => void = () => undefined;
    const sessionOpen = new Promise<void>((r) => {
      connected = r;
    });
    let go: () => void = () => undefined;
    const started = new Promise<void>((r) => {
      go = r;
    });
    const settled = engine
      .withSession(endpoint, admin, async (s) => {
        connected();
        await started;
        await s.setPassword(login.username, `Race-B-${Date.now()}-x`);
      })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    await sessionOpen;
    await a.query('BEGIN');
    await a.query(`ALTER ROLE ${login.username} PASSWORD 'Race-A-${Date.now()}'`);
    go();
    await until('session B to wait for the lock', async () => {
      const { rows } = await a.query<{ n: number }>(
        // Any other client backend in a lock wait: `query` can still show the session's previous
        // statement (seen: 'SET ROLE NONE') while its ALTER ROLE already waits.
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
      );
      return (rows[0]?.n ?? 0) > 0;
    });
    await a.query('COMMIT');
    // Assess: a transient failure (redelivery retries it), naming the code, not the statement.
    const err = await settled;
    expect(err).toBeInstanceOf(TransientError);
    expect((err as TransientError).message).toMatch(/\(XX000\)$/);
  } finally {
    await a.end();
  }
});
