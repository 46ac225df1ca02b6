import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSecretManagerClient } from '../../../shared/secrets/client';
import { AUTOMATIC } from './harness';

const root = path.resolve(__dirname, '../../..');
const LINE = /^SECRET_MANAGER_EMULATOR_HOST=(127\.0\.0\.1:\d+)$/;

interface Running {
  child: ChildProcess;
  address: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the program and waits for its one line. */
async function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, PUBSUB_EMULATOR_HOST: '', ...env },
    // Its own process group: a terminal's Ctrl-C or a supervisor's stop reaches npm and node alike.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no address line in 30 s; stderr: ${err}`)),
      30_000,
    );
    child.stdout?.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => LINE.test(l));
      if (line) {
        clearTimeout(timer);
        resolve(LINE.exec(line)?.[1] ?? '');
      }
    });
    child.on('exit', () => reject(new Error(`exited before listening; stderr: ${err}`)));
  });
  return { child, address, stdout: () => out, stderr: () => err, exited };
}

describe('SM emulator: the npm run emulator program', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sm-emulator-program-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('serves the official client from another process and stops on SIGINT to its group', async () => {
    const stateFile = path.join(dir, 'state.json');
    const running = await run('npm', [
      'run',
      '-s',
      'emulator',
      '--',
      '--port',
      '0',
      '--state-file',
      stateFile,
    ]);
    try {
      const client = createSecretManagerClient({
        env: { SECRET_MANAGER_EMULATOR_HOST: running.address },
      });
      const [s] = await client.createSecret({
        parent: 'projects/local',
        secretId: 'db',
        secret: { replication: AUTOMATIC },
      });
      await client.addSecretVersion({ parent: s.name, payload: { data: Buffer.from('pw') } });
      const [access] = await client.accessSecretVersion({ name: `${s.name}/versions/latest` });
      expect(access.payload?.data?.toString()).toBe('pw');
      await client.close();
      expect(running.stdout().trim().split('\n')).toEqual([
        `SECRET_MANAGER_EMULATOR_HOST=${running.address}`,
      ]);
    } finally {
      process.kill(-(running.child.pid ?? 0), 'SIGINT');
      await running.exited;
    }
    expect(running.stderr()).toContain('"signal":"SIGINT"');
    expect(fs.readFileSync(stateFile, 'utf8')).toContain('projects/local/secrets/db');
  });

  it('exits 0 on SIGTERM, with relaxed rotation limits and quotas taken from the command line', async () => {
    const running = await run(path.join(root, 'node_modules/.bin/ts-node'), [
      '--transpile-only',
      'emulator/main.ts',
      '--port',
      '0',
      '--relaxed-rotation-limits',
      '--quotas',
      '--quota-minute-ms',
      '600000',
    ]);
    const client = createSecretManagerClient({
      env: { SECRET_MANAGER_EMULATOR_HOST: running.address },
    });
    try {
      const [s] = await client.createSecret({
        parent: 'projects/local',
        secretId: 'fast',
        secret: {
          replication: AUTOMATIC,
          topics: [{ name: 'projects/local/topics/secret-events' }],
          rotation: {
            nextRotationTime: { seconds: Math.floor(Date.now() / 1000) + 1 },
            rotationPeriod: { seconds: 1 },
          },
        },
      });
      expect(s.rotation?.rotationPeriod?.seconds).toBe('1');
      // A ten-minute quota minute has ten-second seconds: the third write to one secret waits.
      for (const v of ['a', 'b']) {
        await client.addSecretVersion({ parent: s.name, payload: { data: Buffer.from(v) } });
      }
      await expect(
        client.addSecretVersion({ parent: s.name, payload: { data: Buffer.from('c') } }),
      ).rejects.toMatchObject({ code: 8, details: expect.stringMatching(/^Quota exceeded for/) });
    } finally {
      await client.close();
      running.child.kill('SIGTERM');
    }
    expect(await running.exited).toEqual({ code: 0, signal: null });
  });
});
