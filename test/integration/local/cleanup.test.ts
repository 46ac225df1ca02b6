import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { Client } from 'pg';
import { type TestServerAddress, testDatabasesFromEnv } from '../../../devtools/databases';
import { cleanupDemo } from '../../../local/cleanup';
import { type LocalDatabase, parseDatabaseUrl } from '../../../local/database';
import { DEMO_LOGINS, ensureDemoObjects, ensureLogin } from '../../../local/demo-database';
import { prepareStateDir } from '../../../local/local-stack';

/**
 * `npm start -- --cleanup` against the user's own server (here: the run's real PostgreSQL and
 * MariaDB): the demo's logins, owner role, table or database are gone afterwards, a second
 * cleanup finds nothing, and the state folder loses only the files the stack wrote.
 */
const servers = testDatabasesFromEnv();
const url = (scheme: string, s: TestServerAddress, db: string) =>
  `${scheme}://${encodeURIComponent(s.adminUser)}:${encodeURIComponent(s.adminPassword)}@${s.host}:${s.port}/${db}`;

async function pgRoles(s: TestServerAddress): Promise<string[]> {
  const c = new Client({
    ...s,
    user: s.adminUser,
    password: s.adminPassword,
    database: 'postgres',
  });
  await c.connect();
  try {
    const r = await c.query(
      "SELECT rolname FROM pg_roles WHERE rolname LIKE 'gsm_demo%' ORDER BY 1",
    );
    return r.rows.map((row: { rolname: string }) => row.rolname);
  } finally {
    await c.end();
  }
}

async function mariadbUsers(s: TestServerAddress): Promise<string[]> {
  const c = await mysql.createConnection({
    host: s.host,
    port: s.port,
    user: s.adminUser,
    password: s.adminPassword,
  });
  try {
    const [rows] = await c.query(
      "SELECT User FROM mysql.user WHERE User LIKE 'gsm_demo%' ORDER BY 1",
    );
    const [dbs] = await c.query("SHOW DATABASES LIKE 'gsm_demo'");
    return [
      ...(rows as { User: string }[]).map((r) => r.User),
      ...(dbs as unknown[]).map(() => 'database gsm_demo'),
    ];
  } finally {
    await c.end();
  }
}

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), 'gsm-cleanup-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

async function seed(databaseUrl: string): Promise<void> {
  const db: LocalDatabase = {
    ...parseDatabaseUrl(databaseUrl),
    source: 'environment',
    stop: async () => {},
  };
  await ensureDemoObjects(db);
  for (const login of DEMO_LOGINS) await ensureLogin(db, login, `Pw-${login}-1234567890`);
  prepareStateDir(stateDir);
  await writeFile(path.join(stateDir, 'secret-manager.json'), '{}');
}

it('PostgreSQL: drops the demo logins, owner role and table, and the state files', async () => {
  const databaseUrl = url('postgres', servers.postgres, 'postgres');
  await seed(databaseUrl);
  expect(await pgRoles(servers.postgres)).toEqual([
    'gsm_demo_app',
    'gsm_demo_app_clone',
    'gsm_demo_owner',
  ]);

  const lines = await cleanupDemo({ stateDir, databaseUrl });

  expect(lines[0]).toBe(
    `postgres ${servers.postgres.host}:${servers.postgres.port}: dropped role gsm_demo_app, role gsm_demo_app_clone, table gsm_demo_orders, role gsm_demo_owner`,
  );
  expect(lines[1]).toBe(
    `${stateDir}: removed secret-manager.json, .gitignore (the demo secrets and their passwords)`,
  );
  expect(await pgRoles(servers.postgres)).toEqual([]);
  expect(existsSync(stateDir)).toBe(false);
  // Idempotent: nothing left, nothing to say but that.
  await expect(cleanupDemo({ stateDir, databaseUrl })).resolves.toEqual([
    `postgres ${servers.postgres.host}:${servers.postgres.port}: nothing of the demo left`,
    `${stateDir}: no state to remove`,
  ]);
  // No line carries the admin password.
  expect(lines.join('\n')).not.toContain(servers.postgres.adminPassword);
});

it('MariaDB: drops the demo users and the gsm_demo database; keeps a state folder with other files', async () => {
  const databaseUrl = url('mariadb', servers.mariadb, 'mysql');
  await seed(databaseUrl);
  await writeFile(path.join(stateDir, 'mine.txt'), 'not the stack’s');
  expect(await mariadbUsers(servers.mariadb)).toEqual([
    'gsm_demo_app',
    'gsm_demo_app_clone',
    'database gsm_demo',
  ]);

  const lines = await cleanupDemo({ stateDir, databaseUrl });

  expect(lines[0]).toBe(
    `mariadb ${servers.mariadb.host}:${servers.mariadb.port}: dropped user gsm_demo_app, user gsm_demo_app_clone, database gsm_demo`,
  );
  expect(await mariadbUsers(servers.mariadb)).toEqual([]);
  expect(await readdir(stateDir)).toEqual(['mine.txt']);
});
