import { spawn } from 'node:child_process';
import path from 'node:path';
import { postCloudEvent } from '../devtools/cloud-event-http';
import { pubsubCloudEvent, secretNotification } from '../devtools/events';
import { freePort } from '../emulator/pubsub/free-port';
import { functionArgs, waitForPort } from '../local/function-process';
import { type BenchEnvironment, PROJECT, ROTATION_EVENTS } from './environment';
import { ratio, type Summary, since, summarize } from './stats';

const ROOT = path.resolve(__dirname, '..');
const BUILT_FUNCTIONS = path.join(ROOT, 'build/functions/index.js');
const TRIVIAL = path.join(ROOT, 'bench/trivial-function.js');

/** Modules a cold start should not load: the Google clients and the database drivers. */
export const HEAVY_MODULES = [
  '@google-cloud/secret-manager',
  '@google-cloud/pubsub',
  'google-gax',
  'google-auth-library',
  'pg',
  'mysql2',
] as const;

export interface ColdStartResult {
  runs: number;
  /** Process start → port accepting connections. */
  listen: { rotateSecret: Summary; trivial: Summary; ratio: number };
  /** Process start → first event answered 2xx (an event rotateSecret acknowledges without work). */
  firstEvent: { rotateSecret: Summary; trivial: Summary; ratio: number };
  /** Process start → a real rotation done, beside the warm rotation median of (a). */
  firstRotation: Summary;
  /** Heavy modules in require.cache right after loading the functions' entry point. */
  heavyModulesAtLoad: string[];
  /** Heavy modules loaded once a rotation ran (the lazy loading did its job if these appear here only). */
  heavyModulesAfterRotation: string[];
  loadEntryMs: Summary;
}

async function timeProcess(
  source: string,
  target: string,
  env: Record<string, string>,
  event: Record<string, unknown>,
): Promise<{ listenMs: number; eventMs: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, functionArgs(target, port, source), {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port, child, 30_000);
    const listenMs = since(t0);
    const res = await postCloudEvent(`http://127.0.0.1:${port}/`, event);
    const eventMs = since(t0);
    if (res.status < 200 || res.status > 299) {
      throw new Error(
        `${target} answered ${res.status}: ${res.body.slice(0, 200)} ${stderr.slice(0, 300)}`,
      );
    }
    return { listenMs, eventMs };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** Loads the entry point in a fresh node and lists the heavy modules it pulled in. */
async function modulesLoaded(afterRotationOf?: { env: Record<string, string>; event: unknown }) {
  const script = `
    const t0 = performance.now();
    require(${JSON.stringify(BUILT_FUNCTIONS)});
    const loadMs = performance.now() - t0;
    const heavy = ${JSON.stringify(HEAVY_MODULES)};
    const loaded = () => heavy.filter((m) => Object.keys(require.cache).some((k) => k.includes('/node_modules/' + m + '/')));
    const atLoad = loaded();
    (async () => {
      let after = [];
      if (process.env.BENCH_EVENT) {
        const { getTestServer } = require('@google-cloud/functions-framework/testing');
        // The product build holds no test helpers: take this one from its source, after the
        // load above was measured, so ts-node's hook costs nothing the probe reports.
        require('ts-node').register({ transpileOnly: true });
        const { postCloudEvent } = require(${JSON.stringify(path.join(ROOT, 'devtools/cloud-event-http.ts'))});
        const server = getTestServer('rotateSecret');
        await new Promise((r) => server.listen(0, '127.0.0.1', r));
        const res = await postCloudEvent('http://127.0.0.1:' + server.address().port + '/', JSON.parse(process.env.BENCH_EVENT));
        if (res.status !== 204) throw new Error('rotation answered ' + res.status);
        after = loaded();
      }
      process.stdout.write(JSON.stringify({ loadMs, atLoad, after }));
      process.exit(0);
    })().catch((e) => { process.stderr.write(String(e)); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...(afterRotationOf
        ? { ...afterRotationOf.env, BENCH_EVENT: JSON.stringify(afterRotationOf.event) }
        : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`module probe failed: ${err.slice(0, 300)}`);
  return JSON.parse(out.slice(out.lastIndexOf('{"loadMs"'))) as {
    loadMs: number;
    atLoad: string[];
    after: string[];
  };
}

/**
 * (b) Real functions-framework processes from the compiled build (as Cloud Functions runs them):
 * rotateSecret vs a trivial CloudEvent function, alternating, `runs` times each.
 */
export async function measureColdStart(
  env: BenchEnvironment,
  options: { runs: number },
): Promise<ColdStartResult> {
  const fnEnv = {
    SECRET_MANAGER_EMULATOR_HOST: env.sm.address,
    PUBSUB_EMULATOR_HOST: env.pubsub.host,
    GCP_PROJECT: PROJECT,
    ROTATION_EVENTS_TOPIC: ROTATION_EVENTS,
    ROTATOR_STAGING_SECRET: env.deps.settings.stagingSecrets.join(','),
    LOG_LEVEL: 'WARNING',
    METADATA_SERVER_DETECTION: 'none',
  };
  // An event rotateSecret acknowledges without any client: a Secret Manager notification it does
  // not act on. The trivial function gets the same event.
  const ack = () =>
    pubsubCloudEvent(
      secretNotification('SECRET_VERSION_ADD', `projects/${PROJECT}/secrets/anything`),
    );
  const listen = { rotateSecret: [] as number[], trivial: [] as number[] };
  const first = { rotateSecret: [] as number[], trivial: [] as number[] };
  const rotations: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    const r = await timeProcess(BUILT_FUNCTIONS, 'rotateSecret', fnEnv, ack());
    const t = await timeProcess(TRIVIAL, 'trivial', {}, ack());
    listen.rotateSecret.push(r.listenMs);
    listen.trivial.push(t.listenMs);
    first.rotateSecret.push(r.eventMs);
    first.trivial.push(t.eventMs);
    const secret = await env.createManagedSecret('postgres', 'alternating-users');
    const rot = await timeProcess(
      BUILT_FUNCTIONS,
      'rotateSecret',
      fnEnv,
      env.rotationEvent(secret.name),
    );
    rotations.push(rot.eventMs);
  }
  const loads: number[] = [];
  let atLoad: string[] = [];
  for (let i = 0; i < Math.max(3, options.runs); i++) {
    const probe = await modulesLoaded();
    loads.push(Math.round(probe.loadMs * 10) / 10);
    atLoad = probe.atLoad;
  }
  const secret = await env.createManagedSecret('postgres', 'alternating-users');
  const after = await modulesLoaded({ env: fnEnv, event: env.rotationEvent(secret.name) });
  const s = (v: number[]) => summarize(v);
  return {
    runs: options.runs,
    listen: {
      rotateSecret: s(listen.rotateSecret),
      trivial: s(listen.trivial),
      ratio: ratio(s(listen.rotateSecret).median, s(listen.trivial).median),
    },
    firstEvent: {
      rotateSecret: s(first.rotateSecret),
      trivial: s(first.trivial),
      ratio: ratio(s(first.rotateSecret).median, s(first.trivial).median),
    },
    firstRotation: s(rotations),
    heavyModulesAtLoad: atLoad,
    heavyModulesAfterRotation: after.after,
    loadEntryMs: s(loads),
  };
}
