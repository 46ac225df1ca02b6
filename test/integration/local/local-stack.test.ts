import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { productionCliDeps } from '../../../cli/production-deps';
import { runCli } from '../../../cli/run-cli';
import { type LocalStack, startLocalStack } from '../../../local/local-stack';
import { readRefreshRecord } from '../../../shared/consumers/refresh-record';
import { readHistory } from '../../../shared/rotation/state';
import { createSecretManagerClient } from '../../../shared/secrets/client';
import { VersionNotEnabledError } from '../../../shared/secrets/errors';
import { createGcpSecretStore } from '../../../shared/secrets/gcp-secret-store';

/**
 * `npm start` as a program: the whole stack starts (fresh state folder, free ports, its own
 * throwaway PostgreSQL and Pub/Sub), the demo secret rotates on its schedule through the real
 * functions-framework processes, its Databricks consumer is refreshed, and stop() leaves nothing
 * listening and no function process alive.
 */
jest.setTimeout(150_000);

let stateDir: string;
let stack: LocalStack | undefined;
const printed: string[] = [];

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitFor<T>(fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), 'gsm-local-stack-'));
});

afterAll(async () => {
  await stack?.stop().catch(() => undefined);
  await rm(stateDir, { recursive: true, force: true });
});

it('starts, rotates the demo secret on schedule, refreshes its consumer, and stops cleanly', async () => {
  // Prepare
  const logFile = path.join(stateDir, 'functions.jsonl');
  stack = await startLocalStack({
    stateDir,
    logFile,
    portBase: 0,
    periodMs: 60_000,
    firstRotationMs: 1_000,
    graceMs: 1_000,
    tickMs: 1_000,
    print: (line) => printed.push(line),
  });
  const demo = stack.demo;
  expect(demo).toMatchObject({
    created: true,
    secret: 'projects/gsm-rotator-local/secrets/demo-db',
  });
  const client = createSecretManagerClient({ env: stack.env });
  const store = createGcpSecretStore({ clientFor: () => client });
  const secret = demo?.secret as string;

  // Act: nothing but time; the emulator's rotation schedule starts the rotation.
  const history = await waitFor(async () => {
    const h = readHistory((await store.getSecret(secret)).annotations);
    return h.length > 0 ? h : undefined;
  }, 30_000);
  const record = await waitFor(
    async () => readRefreshRecord((await store.getSecret(secret)).annotations),
    15_000,
  );

  // Assess
  expect(history[0]).toMatchObject({
    outcome: 'succeeded',
    trigger: 'schedule',
    fromVersion: 1,
    toVersion: 2,
  });
  expect(record).toMatchObject({
    version: 2,
    targets: [{ id: 'job:4242', kind: 'job', status: 'done' }],
  });
  // The continuous job was restarted: its first run was cancelled, and a new one runs.
  const jobs = stack.workspace.jobs;
  const runs = await waitFor(async () => {
    const all = jobs.runsOf(4242);
    return all.some((r) => r.result_state === 'CANCELED') && jobs.activeRunsOf(4242).length === 1
      ? all
      : undefined;
  }, 5_000);
  expect(runs.length).toBeGreaterThanOrEqual(2);
  // The readable lines show the rotation and the refresh, and the functions really ran.
  expect(printed.some((l) => /rotateSecret\s+rotation\.completed\s+demo-db/.test(l))).toBe(true);
  expect(printed.some((l) => /refreshConsumers\s+refresh\.completed\s+demo-db/.test(l))).toBe(true);
  // No value: the demo's passwords never reach the screen.
  const versions = await store.listVersions(secret);
  for (const v of versions.filter((x) => x.state === 'ENABLED')) {
    // The stack's retire tick may disable a version between the listing and this read.
    const data = await store.accessVersion(secret, v.number).catch((err: unknown) => {
      if (err instanceof VersionNotEnabledError) return undefined;
      throw err;
    });
    if (data === undefined) continue;
    const { password } = JSON.parse(data) as { password: string };
    expect(printed.join('\n')).not.toContain(password);
  }
  await client.close();
  // The state folder ignores itself in git (it holds these passwords).
  expect(await readFile(path.join(stateDir, '.gitignore'), 'utf8')).toMatch(/\n\*\n$/);

  // `history --logs` reads the stack's raw log file: the rotation's own lines, under its full id.
  const out: string[] = [];
  const code = await runCli(['history', 'demo-db', '--logs', logFile, '--json'], {
    ...productionCliDeps({ ...stack.env }),
    stdout: (t) => out.push(t),
    stderr: (t) => out.push(t),
  });
  expect(code).toBe(0);
  const [first] = (
    JSON.parse(out.join('')) as { rotations: { id: string; logs: { event?: string }[] }[] }
  ).rotations;
  expect(first?.logs.map((l) => l.event)).toEqual(
    expect.arrayContaining(['rotation.claimed', 'rotation.step', 'rotation.completed']),
  );
  expect(printed.some((l) => l.includes(` ${first?.id} `))).toBe(true);

  const ports = [...stack.ports];
  const pids = stack.functions.map((f) => f.pid);
  await stack.stop();
  stack = undefined;
  for (const port of ports) await expect(listening(port)).resolves.toBe(false);
  for (const pid of pids) expect(alive(pid)).toBe(false);
});

it('refuses database settings it cannot use, saying what to set, without echoing the password', async () => {
  const attempts = [
    'ftp://admin:Hunter2-secret@127.0.0.1/db',
    'postgres://admin@127.0.0.1:1/db',
    'postgres://admin:Hunter2-secret@127.0.0.1:1/db',
  ];
  for (const databaseUrl of attempts) {
    const started = startLocalStack({ stateDir, databaseUrl, seed: false });
    await expect(started).rejects.toThrow(/ROTATOR_LOCAL_DATABASE_URL/);
    await expect(started).rejects.not.toThrow(/Hunter2/);
  }
});
