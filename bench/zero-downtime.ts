import mysql from 'mysql2/promise';
import { Client } from 'pg';
import type { StrategyName } from '../shared/config/rotation-config';
import type { FixtureEngine } from '../test/support/db-fixtures';
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
  /**
   * The long-lived consumer (a Databricks job): reads `latest` once when it starts and keeps
   * connecting with that credential; it restarts (reads `latest` again) only when the refresh
   * cancels its run, `refreshDelayMs` after each rotation returned.
   */
  longLived: {
    attempts: number;
    failedLogins: number;
    otherErrors: number;
    restarts: number;
    refreshDelayMs: number;
  };
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
  options: { rotations: number; pauseMs: number; refreshDelayMs: number },
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
  // The job: `latest` once at start, then only after a restart.
  const readLatest = async () => {
    const [res] = await env.client.accessSecretVersion({ name: `${secret.name}/versions/latest` });
    return JSON.parse(Buffer.from(res.payload?.data ?? '').toString()) as Payload;
  };
  const job = { attempts: 0, rejected: 0, error: 0, restarts: 0, restartDue: false };
  const longLived = (async () => {
    let held = await readLatest();
    while (running) {
      if (job.restartDue) {
        job.restartDue = false;
        job.restarts++;
        held = await readLatest();
      }
      const outcome = await tryConnect(engine, held);
      job.attempts++;
      if (outcome === 'rejected') job.rejected++;
      if (outcome === 'error') job.error++;
    }
  })();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    for (let i = 0; i < options.rotations; i++) {
      await env.rotateSecret(env.rotationEvent(secret.name));
      // refreshConsumers cancels the job's run: it restarts and reads `latest` again.
      await sleep(options.refreshDelayMs);
      job.restartDue = true;
      while (job.restartDue) await sleep(5);
      await sleep(options.pauseMs);
      // Retirement in between, once the job runs on the new credential (its refresh confirmed;
      // the grace window shortened: the tick's clock runs past it).
      await env.retireNow(secret.name);
    }
  } finally {
    running = false;
    await Promise.all([client, longLived]);
  }
  return {
    engine,
    strategy,
    rotations: options.rotations,
    attempts: counts.attempts,
    failedLogins: counts.rejected,
    otherErrors: counts.error,
    target: strategy === 'single-user' ? 'reported' : '0',
    longLived: {
      attempts: job.attempts,
      failedLogins: job.rejected,
      otherErrors: job.error,
      restarts: job.restarts,
      refreshDelayMs: options.refreshDelayMs,
    },
  };
}
