import { z } from 'zod';
import { startMariadb } from './mariadb-server';
import { startPostgres } from './postgres-server';

/**
 * The database servers of a test run: one PostgreSQL (scram-sha-256) and one MariaDB, started
 * once by global setup and described to the jest workers through environment variables.
 */
export interface TestDatabases {
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface TestServerAddress {
  host: string;
  port: number;
  adminUser: string;
  adminPassword: string;
}

export async function startTestDatabases(): Promise<TestDatabases> {
  const [pg, maria] = await Promise.allSettled([startPostgres(), startMariadb()]);
  if (pg.status === 'rejected' || maria.status === 'rejected') {
    await Promise.allSettled(
      [pg, maria].map((r) => (r.status === 'fulfilled' ? r.value.stop() : null)),
    );
    const reasons = [pg, maria].flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    throw new Error(`test databases failed to start: ${reasons.join('; ')}`);
  }
  const postgres = pg.value;
  const mariadb = maria.value;
  return {
    env: {
      TEST_PG_HOST: postgres.host,
      TEST_PG_PORT: String(postgres.port),
      TEST_PG_ADMIN_USER: postgres.adminUser,
      TEST_PG_ADMIN_PASSWORD: postgres.adminPassword,
      TEST_MARIADB_HOST: mariadb.host,
      TEST_MARIADB_PORT: String(mariadb.port),
      TEST_MARIADB_ADMIN_USER: mariadb.adminUser,
      TEST_MARIADB_ADMIN_PASSWORD: mariadb.adminPassword,
    },
    async stop() {
      await Promise.allSettled([postgres.stop(), mariadb.stop()]);
    },
  };
}

const serverEnv = (prefix: 'PG' | 'MARIADB') =>
  z
    .object({
      [`TEST_${prefix}_HOST`]: z.string().min(1),
      [`TEST_${prefix}_PORT`]: z.coerce.number().int().min(1).max(65_535),
      [`TEST_${prefix}_ADMIN_USER`]: z.string().min(1),
      [`TEST_${prefix}_ADMIN_PASSWORD`]: z.string().min(1),
    })
    .transform(
      (v): TestServerAddress => ({
        host: v[`TEST_${prefix}_HOST`] as string,
        port: v[`TEST_${prefix}_PORT`] as number,
        adminUser: v[`TEST_${prefix}_ADMIN_USER`] as string,
        adminPassword: v[`TEST_${prefix}_ADMIN_PASSWORD`] as string,
      }),
    );

/** The servers global setup started, read from the environment of a jest worker. */
export function testDatabasesFromEnv(env: NodeJS.ProcessEnv = process.env): {
  postgres: TestServerAddress;
  mariadb: TestServerAddress;
} {
  const pg = serverEnv('PG').safeParse(env);
  const maria = serverEnv('MARIADB').safeParse(env);
  if (!pg.success || !maria.success) {
    const missing = [...(pg.error?.issues ?? []), ...(maria.error?.issues ?? [])]
      .map((i) => i.path.join('.'))
      .join(', ');
    throw new Error(
      `test databases are not described in the environment (${missing}): run the suite through ` +
        "jest's integration or e2e project, whose global setup (test/support/global-setup.ts) starts them",
    );
  }
  return { postgres: pg.data, mariadb: maria.data };
}
