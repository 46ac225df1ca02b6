import { Client } from 'pg';
import type { PostgresServer } from '../devtools/postgres-server';

/**
 * Polls pg_stat_activity on its own admin connection (not counted) and keeps the highest number
 * of client connections seen. A poll is a query round trip (~1 ms), so a connection that lives
 * shorter than the poll interval can be missed: the interval is kept small and the figure is a
 * lower bound of the true peak, stated as such in the report.
 */
export interface ConnectionMonitor {
  readonly peak: number;
  readonly samples: number;
  reset(): void;
  stop(): Promise<void>;
}

export async function monitorConnections(
  server: PostgresServer,
  intervalMs = 5,
): Promise<ConnectionMonitor> {
  const c = new Client({
    host: server.host,
    port: server.port,
    user: server.adminUser,
    password: server.adminPassword,
    database: 'postgres',
  });
  await c.connect();
  let peak = 0;
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await c.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
      );
      samples++;
      peak = Math.max(peak, r.rows[0]?.n ?? 0);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    get peak() {
      return peak;
    },
    get samples() {
      return samples;
    },
    reset() {
      peak = 0;
      samples = 0;
    },
    async stop() {
      running = false;
      await loop;
      await c.end();
    },
  };
}
