import { readdirSync } from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { Client } from 'pg';
import { z } from 'zod';
import { startPostgres } from '../devtools/postgres-server';
import type { EngineName } from '../shared/engines/engine';
import { LocalStackError } from './errors';

/** The variable that points the local stack at the user's own database server. */
export const DATABASE_URL_VARIABLE = 'ROTATOR_LOCAL_DATABASE_URL';

/** The database server the demo rotates logins on, with the admin login the demo uses. */
export interface LocalDatabase {
  engine: EngineName;
  source: 'environment' | 'throwaway';
  host: string;
  port: number;
  /** The admin's database: PostgreSQL keeps the demo objects here too. */
  database: string;
  adminUser: string;
  adminPassword: string;
  stop(): Promise<void>;
}

const SCHEMES: Record<string, EngineName> = {
  'postgres:': 'postgres',
  'postgresql:': 'postgres',
  'mysql:': 'mysql',
  'mariadb:': 'mariadb',
};
const DEFAULT_PORT: Record<EngineName, number> = { postgres: 5432, mysql: 3306, mariadb: 3306 };
const IDENT = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;

const usage =
  `${DATABASE_URL_VARIABLE}=postgres://ADMIN:PASSWORD@HOST:5432/DATABASE ` +
  '(or mysql://ADMIN:PASSWORD@HOST:3306, mariadb://…)';

/** Parses the URL without ever echoing it: it holds the admin password. */
export function parseDatabaseUrl(text: string): Omit<LocalDatabase, 'source' | 'stop'> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new LocalStackError(`${DATABASE_URL_VARIABLE} is not a URL; expected ${usage}`);
  }
  const engine = SCHEMES[url.protocol];
  if (!engine) {
    throw new LocalStackError(
      `${DATABASE_URL_VARIABLE}: scheme ${url.protocol} is not supported; expected ${usage}`,
    );
  }
  const adminUser = decodeURIComponent(url.username);
  const adminPassword = decodeURIComponent(url.password);
  const database =
    decodeURIComponent(url.pathname.replace(/^\//, '')) ||
    (engine === 'postgres' ? 'postgres' : 'mysql');
  const fields = z
    .object({
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535),
      adminUser: z.string().regex(IDENT),
      adminPassword: z.string().min(1),
      database: z.string().regex(IDENT),
    })
    .safeParse({
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port ? Number(url.port) : DEFAULT_PORT[engine],
      adminUser,
      adminPassword,
      database,
    });
  if (!fields.success) {
    const which = fields.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new LocalStackError(
      `${DATABASE_URL_VARIABLE}: invalid or missing ${which}; expected ${usage}`,
    );
  }
  return { engine, ...fields.data };
}

/** Whether the PostgreSQL server binaries (initdb, pg_ctl) are installed where Debian puts them. */
export function postgresBinariesInstalled(root = '/usr/lib/postgresql'): boolean {
  try {
    return readdirSync(root).some((v) => {
      try {
        return readdirSync(path.join(root, v, 'bin')).includes('initdb');
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

async function checkAdminLogin(db: Omit<LocalDatabase, 'source' | 'stop'>): Promise<void> {
  try {
    if (db.engine === 'postgres') {
      const c = new Client({
        host: db.host,
        port: db.port,
        user: db.adminUser,
        password: db.adminPassword,
        database: db.database,
        connectionTimeoutMillis: 5000,
      });
      await c.connect();
      await c.end();
    } else {
      const c = await mysql.createConnection({
        host: db.host,
        port: db.port,
        user: db.adminUser,
        password: db.adminPassword,
        connectTimeout: 5000,
      });
      await c.end();
    }
  } catch (err) {
    throw new LocalStackError(
      `${DATABASE_URL_VARIABLE}: cannot log in as ${db.adminUser} at ${db.host}:${db.port}/${db.database}: ${(err as Error).message}`,
    );
  }
}

/**
 * The user's database when ROTATOR_LOCAL_DATABASE_URL is set; otherwise a throwaway PostgreSQL
 * (scram-sha-256, its own temp folder, removed on stop) when the server binaries are installed;
 * otherwise a LocalStackError that says what to install or set.
 */
export async function startLocalDatabase(options: {
  url?: string;
  /** Port for the throwaway PostgreSQL (fixed, so secrets that name it stay valid on restart). */
  port?: number;
}): Promise<LocalDatabase> {
  if (options.url) {
    const db = parseDatabaseUrl(options.url);
    await checkAdminLogin(db);
    return { ...db, source: 'environment', stop: async () => {} };
  }
  if (!postgresBinariesInstalled()) {
    throw new LocalStackError(
      [
        'No database for the demo. Either:',
        `  - set ${usage}`,
        '    (an admin that may create roles; the demo creates gsm_demo_* logins), or',
        '  - install the PostgreSQL server binaries so a throwaway server can run in a temp folder:',
        '    Debian/Ubuntu: sudo apt-get install -y --no-install-recommends postgresql',
      ].join('\n'),
    );
  }
  const pg = await startPostgres(options.port ? { port: options.port } : {});
  return {
    engine: 'postgres',
    source: 'throwaway',
    host: pg.host,
    port: pg.port,
    database: 'postgres',
    adminUser: pg.adminUser,
    adminPassword: pg.adminPassword,
    stop: () => pg.stop(),
  };
}
