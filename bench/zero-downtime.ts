import mysql from 'mysql2/promise';
import { Client } from 'pg';
import type { FixtureEngine } from '../devtools/db-fixtures';
import type { StrategyName } from '../shared/config/rotation-config';
import type { BenchEnvironment } from './environment';

export interface ZeroDowntimeRun {
  engine: FixtureEngine;
  strategy: StrategyName;
  rotations: number;
  /** Connections the client opened (each with the credential read from `current` just before). */
  attempts: number;
  failedLogins: number;
  /** Failures that were not a rejected login (network, timeout): reported, not hidden. */
  otherErrors: number;
  target: '0' | 'reported';
}

interface Payload {
  host: string;
  port: number;
  database: string;
  username: string;
  password: string;
}

async function tryConnect(engine: FixtureEngine, p: Payload): Promise<'ok' | 'rejected' | 'error'> {
  if (engine === 'postgres') {
    const c = new Client({
      host: p.host,
      port: p.port,
      database: p.database,
      user: p.username,
      password: p.password,
      connectionTimeoutMillis: 5000,
    });
    try {
      await c.connect();
      await c.query('SELECT 1');
      return 'ok';
    } catch (err) {
      const code = (err as { code?: string }).code;
      return code === '28P01' || code === '28000' ? 'rejected' : 'error';
    } finally {
      await c.end().catch(() => undefined);
    }
  }
  try {
    const c = await mysql.createConnection({
      host: p.host,
      port: p.port,
      database: p.database,
      user: p.username,
      password: p.password,
      connectTimeout: 5000,
    });
    await c.query('SELECT 1');
    await c.end();
    return 'ok';
  } catch (err) {
    const e = err as { code?: string; errno?: number };
    return e.code === 'ER_ACCESS_DENIED_ERROR' ||
      e.code === 'ER_ACCOUNT_HAS_BEEN_LOCKED' ||
      e.errno === 4151
      ? 'rejected'
      : 'error';
  }
}

/**
 * (d) A consumer that keeps opening connections, each with the credential it just read from the
 * `current` alias (through the official client, by alias, as the README tells consumers to), while
 * `rotations` rotations run back to back with a short pause. Counts the logins the database
 * rejected.
 */
export async function measureZeroDowntime(
  env: BenchEnvironment,
  engine: FixtureEngine,
  strategy: StrategyName,
  options: { rotations: number; pauseMs: number },
): Promise<ZeroDowntimeRun> {
  const secret = await env.createManagedSecret(engine, strategy);
  // Rotation 0 gives the secret its `current` alias; the client starts after it.
  await env.rotateSecret(env.rotationEvent(secret.name));
  let running = true;
  const counts = { attempts: 0, rejected: 0, error: 0 };
  const client = (async () => {
    while (running) {
      const [res] = await env.client.accessSecretVersion({
        name: `${secret.name}/versions/current`,
      });
      const payload = JSON.parse(Buffer.from(res.payload?.data ?? '').toString()) as Payload;
      const outcome = await tryConnect(engine, payload);
      counts.attempts++;
      if (outcome === 'rejected') counts.rejected++;
      if (outcome === 'error') counts.error++;
    }
  })();
  try {
    for (let i = 0; i < options.rotations; i++) {
      await env.rotateSecret(env.rotationEvent(secret.name));
      await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  } finally {
    running = false;
    await client;
  }
  return {
    engine,
    strategy,
    rotations: options.rotations,
    attempts: counts.attempts,
    failedLogins: counts.rejected,
    otherErrors: counts.error,
    target: strategy === 'single-user' ? 'reported' : '0',
  };
}
