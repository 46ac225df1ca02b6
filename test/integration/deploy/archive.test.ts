import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { postCloudEvent } from '../../../devtools/cloud-event-http';
import { pubsubCloudEvent, secretNotification } from '../../../devtools/events';
import { freePort } from '../../../devtools/postgres-server';
import { ROTATION_OUTCOME_SCHEMA } from '../../../shared/events/rotation-outcome';

/**
 * The deploy archive as Cloud Functions gets it: packed exactly as docs/deploy.md says
 * (`npm run pack:function`), unpacked in a temporary folder, installed the way the buildpack does
 * (`npm ci`, production dependencies only), and served by the functions-framework it installed.
 * Nothing here reaches back into the working tree: a file the product needs but the archive lacks,
 * or a package it needs but `dependencies` lacks, fails this suite.
 */
const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
const ENTRY_POINTS = ['rotateSecret', 'refreshConsumers', 'retireVersions'] as const;

let dir: string;
let app: string;
let entries: string[];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'gsm-rotator-deploy-'));
  app = path.join(dir, 'app');
  const zip = path.join(dir, 'gsm-rotator.zip');
  await run('npm', ['run', 'pack:function', '--', '--out', zip], { cwd: ROOT });
  const list = await run('python3', [
    '-c',
    'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))',
    zip,
  ]);
  entries = list.stdout.split('\n').filter((e) => e && !e.endsWith('/'));
  await run('python3', ['-m', 'zipfile', '-e', zip, app]);
  // --prefer-offline: CI's own `npm ci` left every package in the npm cache.
  await run('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: app,
    env: { ...process.env, NODE_ENV: 'production' },
  });
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the deploy archive', () => {
  it('holds package.json, the lock file and the product build, nothing from tooling or tests', () => {
    expect(entries).toContain('package.json');
    expect(entries).toContain('package-lock.json');
    expect(entries).toContain('build/functions/index.js');
    const stray = entries.filter(
      (e) =>
        e !== 'package.json' &&
        e !== 'package-lock.json' &&
        !/^build\/(functions|shared|cli)\/[\w/.-]+\.js(\.map)?$/.test(e),
    );
    expect(stray).toEqual([]);
    const main = (
      JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8')) as { main: string }
    ).main;
    expect(entries).toContain(main);
  });

  it('every relative require in it, lazy ones included, resolves inside the archive', () => {
    const files = new Set(entries);
    const missing: string[] = [];
    for (const file of entries.filter((e) => e.endsWith('.js'))) {
      const code = readFileSync(path.join(app, file), 'utf8');
      for (const [, spec] of code.matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g)) {
        const target = path.posix.join(path.posix.dirname(file), spec as string);
        if (!files.has(`${target}.js`) && !files.has(target) && !files.has(`${target}/index.js`)) {
          missing.push(`${file} → ${spec}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('installs no devDependency (npm ci --omit=dev)', () => {
    const lock = JSON.parse(readFileSync(path.join(app, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const dev = Object.entries(lock.packages).filter(([p, meta]) => p && meta.dev);
    expect(dev.length).toBeGreaterThan(0);
    expect(dev.map(([p]) => p).filter((p) => existsSync(path.join(app, p)))).toEqual([]);
    expect(
      statSync(path.join(app, 'node_modules/@google-cloud/functions-framework')).isDirectory(),
    ).toBe(true);
  });

  it('loads its entry point from the unpacked folder alone', async () => {
    const probe = `
      require('./');
      const outside = Object.keys(require.cache).filter((f) => !f.startsWith(process.cwd() + '/'));
      process.stdout.write(JSON.stringify(outside));`;
    const { stdout } = await run(process.execPath, ['-e', probe], { cwd: app, env: fnEnv({}) });
    expect(JSON.parse(stdout)).toEqual([]);
  });
});

/** The function's whole environment: nothing from the test run (no emulator hosts). */
function fnEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    GCP_PROJECT: 'test-project',
    METADATA_SERVER_DETECTION: 'none',
    ...extra,
  };
}

interface Served {
  url: string;
  lines: () => Record<string, unknown>[];
  stop(): Promise<void>;
}

/** `functions-framework --target=NAME` as the runtime starts it: in the app folder, from `main`. */
async function serve(target: string, env: Record<string, string> = {}): Promise<Served> {
  const port = await freePort();
  const main = path.join(app, 'node_modules/@google-cloud/functions-framework/build/src/main.js');
  const child: ChildProcess = spawn(
    process.execPath,
    [main, `--target=${target}`, '--signature-type=cloudevent', `--port=${port}`],
    { cwd: app, env: fnEnv(env), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const end = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${target} exited: ${err.slice(0, 500)}`);
    const up = await fetch(`http://127.0.0.1:${port}/`, { method: 'GET' }).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > end) throw new Error(`${target} did not listen: ${err.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${port}/`,
    lines: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const failedOutcome = {
  schema: ROTATION_OUTCOME_SCHEMA,
  rotationId: 'r-1',
  secret: 'projects/test-project/secrets/app',
  outcome: 'failed',
  engine: 'postgres',
  strategy: 'single-user',
  trigger: 'schedule',
  previousVersion: '1',
  startedAt: '2026-01-01T00:00:00Z',
  completedAt: '2026-01-01T00:00:01Z',
  durationMs: 1000,
  stepMs: {},
  attempts: 1,
};

/** Per entry point, an event it acknowledges without calling any Google API or database. */
const IGNORED: Record<(typeof ENTRY_POINTS)[number], () => Record<string, unknown>> = {
  // A notification of its own kind of write, not a rotation request.
  rotateSecret: () =>
    pubsubCloudEvent(secretNotification('SECRET_VERSION_ADD', 'projects/test-project/secrets/app')),
  // A failed rotation: consumers keep the unchanged current credential.
  refreshConsumers: () =>
    pubsubCloudEvent(
      { data: failedOutcome, attributes: { eventType: 'ROTATION_FAILED' } },
      'projects/test-project/topics/rotation-events',
    ),
  // Every tick lists secrets; an event that is not a Pub/Sub message is acked as invalid.
  retireVersions: () => ({
    ...pubsubCloudEvent({ data: {} }, 'projects/test-project/topics/retire-tick'),
    type: 'google.cloud.storage.object.v1.finalized',
  }),
};

describe('functions-framework on the installed archive', () => {
  it.each(ENTRY_POINTS)('%s answers 204 to an event it ignores', async (target) => {
    const fn = await serve(target);
    try {
      const res = await postCloudEvent(fn.url, IGNORED[target]());
      expect(res.status).toBe(204);
    } finally {
      await fn.stop();
    }
  });

  it('a bad deployment setting: one ERROR naming it, never its value, and a redelivery', async () => {
    const fn = await serve('rotateSecret', { ROTATOR_LEASE_SECONDS: 'x-Not-A-Number' });
    try {
      const res = await postCloudEvent(fn.url, IGNORED.rotateSecret());
      expect(res.status).toBe(500);
      await new Promise((r) => setTimeout(r, 100));
      expect(fn.lines()).toEqual([
        expect.objectContaining({
          severity: 'ERROR',
          event: 'function.misconfigured',
          settings: ['ROTATOR_LEASE_SECONDS'],
        }),
      ]);
      expect(JSON.stringify(fn.lines())).not.toContain('Not-A-Number');
    } finally {
      await fn.stop();
    }
  });
});
