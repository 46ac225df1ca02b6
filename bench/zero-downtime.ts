import mysql from 'mysql2/promise';
import { Client } from 'pg';
import type { FixtureEngine } from '../devtools/db-fixtures';
import { makeRotateSecret } from '../functions/rotate-secret';
import type { StrategyName } from '../shared/config/rotation-config';
import type { BenchEnvironment } from './environment';
import type { BenchWorkspace } from './workspace';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

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
   * The long-lived consumer (a continuous Databricks job in the fake workspace): reads `latest`
   * once when its run starts and keeps connecting with that credential; it reads again only in a
   * new run, after refreshConsumers cancelled the old one. `refreshDelayMs`: median time from a
   * rotation's return to the job running again (refresh delivered, run cancelled, new run).
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
  workspace: BenchWorkspace,
  options: { rotations: number; pauseMs: number; jobId: number },
): Promise<ZeroDowntimeRun> {
  workspace.ws.jobs.add({ jobId: options.jobId, continuous: true });
  const secret = await env.createManagedSecret(
    engine,
    strategy,
    workspace.consumersFor(options.jobId),
  );
  // Outcomes go to rotation-events as deployed, and to refreshConsumers here.
  const published: { data: string; attributes: Record<string, string> }[] = [];
  const rotate = makeRotateSecret(() => ({
    ...env.deps,
    publish: async (topic, data, attributes) => {
      published.push({ data, attributes });
      await env.deps.publish(topic, data, attributes);
    },
  }));
  // Rotation 0 gives the secret its `current` alias; the clients start after it.
  await rotate(env.rotationEvent(secret.name));
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
  // The job: `latest` once when its run starts; a new run (refreshConsumers cancelled the old
  // one, Databricks started another) reads it again. No run: the job is not connecting.
  const readLatest = async () => {
    const [res] = await env.client.accessSecretVersion({ name: `${secret.name}/versions/latest` });
    return JSON.parse(Buffer.from(res.payload?.data ?? '').toString()) as Payload;
  };
  const activeRun = () => workspace.ws.jobs.activeRunsOf(options.jobId)[0]?.run_id;
  const job = { attempts: 0, rejected: 0, error: 0, restarts: 0 };
  const longLived = (async () => {
    let runId = activeRun();
    let held = await readLatest();
    while (running) {
      const run = activeRun();
      if (run === undefined) {
        await sleep(5);
        continue;
      }
      if (run !== runId) {
        runId = run;
        job.restarts++;
        held = await readLatest();
      }
      const outcome = await tryConnect(engine, held);
      job.attempts++;
      if (outcome === 'rejected') job.rejected++;
      if (outcome === 'error') job.error++;
    }
  })();
  const refreshDelays: number[] = [];
  try {
    for (let i = 0; i < options.rotations; i++) {
      await rotate(env.rotationEvent(secret.name));
      // rotation-events → refreshConsumers: cancels the job's run; the time until the job runs
      // again on the new credential is the refresh delay.
      const t0 = performance.now();
      const restartsBefore = job.restarts;
      const outcome = published.at(-1);
      if (outcome) await workspace.refresh(outcome.data, outcome.attributes);
      const until = performance.now() + 30_000;
      while (job.restarts === restartsBefore && performance.now() < until) await sleep(5);
      refreshDelays.push(performance.now() - t0);
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
      refreshDelayMs: Math.round(median(refreshDelays)),
    },
  };
}
