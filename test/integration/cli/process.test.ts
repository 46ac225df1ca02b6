import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PubSub, Subscription } from '@google-cloud/pubsub';
import { EXIT } from '../../../cli/exit-codes';
import {
  createRotationHarness,
  type ManagedSecret,
  PROJECT,
  type RotationHarness,
} from '../../support/rotation-harness';
import { localPubSub } from './cli-runner';

/**
 * The real entry (cli/main.ts, what the installed bin runs once built) in its own process, wired
 * from the environment alone: the Secret Manager emulator and the local Pub/Sub.
 */
const ROOT = join(__dirname, '..', '..', '..');
jest.setTimeout(180_000);
let h: RotationHarness;
let secret: ManagedSecret;
let pubsub: PubSub;
let subscription: Subscription;
const TOPIC = `cli-process-${process.pid}`;

interface ProcessRun {
  code: number;
  stdout: string;
  stderr: string;
}

function gsmRotator(args: string[], env?: NodeJS.ProcessEnv): Promise<ProcessRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'cli/main.ts', ...args],
      {
        cwd: ROOT,
        // Four ts-node processes at once on a loaded 2-core machine take a while to compile.
        timeout: 100_000,
        env: env ?? {
          PATH: process.env.PATH,
          GCP_PROJECT: PROJECT,
          SECRET_MANAGER_EMULATOR_HOST: h.emulator.address,
          PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST,
          USER: 'process-test',
        },
      },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: unknown }).code ?? -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  h = await createRotationHarness();
  secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
  pubsub = localPubSub();
  const [topic] = await pubsub.createTopic(TOPIC);
  [subscription] = await topic.createSubscription(`${TOPIC}-sub`);
});

afterAll(async () => {
  await subscription.close();
  await pubsub.close();
  await h.stop();
});

describe('the gsm-rotator process', () => {
  it('answers status --json, unknown secrets, help and rotate, and exits by itself', async () => {
    // Prepare
    const messages: Record<string, string>[] = [];
    subscription.on('message', (m) => {
      m.ack();
      messages.push(m.attributes);
    });
    // Act
    const [status, unknown, help, rotate] = await Promise.all([
      gsmRotator(['status', '--json']),
      gsmRotator(['status', 'no-such-secret']),
      gsmRotator(['--help']),
      gsmRotator(['rotate', secret.name.split('/').pop() as string, '--topic', TOPIC]),
    ]);
    // Assess
    expect(status.code).toBe(EXIT.ok);
    expect(JSON.parse(status.stdout)).toMatchObject({
      ok: true,
      secrets: [{ name: secret.name, engine: 'postgres', strategy: 'single-user', state: 'ok' }],
    });
    expect(unknown).toEqual({
      code: EXIT.notFound,
      stdout: '',
      stderr: `error: secret not found: projects/${PROJECT}/secrets/no-such-secret\n`,
    });
    expect(help.code).toBe(EXIT.ok);
    expect(help.stdout).toContain('Exit codes:');
    expect(rotate.code).toBe(EXIT.ok);
    expect(rotate.stdout).toMatch(/rotation id: +rot-\w+/);
    const deadline = Date.now() + 10_000;
    while (messages.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(messages).toEqual([{ eventType: 'ROTATION_REQUESTED', secretId: secret.name }]);
    const printed = [status, unknown, help, rotate].map((r) => r.stdout + r.stderr).join('\n');
    expect([...h.passwords].filter((p) => printed.includes(p))).toEqual([]);
  });

  it('without Google credentials: a configuration error (exit 2) with the gcloud hint, not "transient"', async () => {
    // Prepare: no emulator, no ADC file (an empty HOME), no metadata server to ask.
    const home = await mkdtemp(join(tmpdir(), 'gsm-no-adc-'));
    try {
      // Act
      const r = await gsmRotator(['status', '--project', 'some-project-1'], {
        PATH: process.env.PATH,
        HOME: home,
        METADATA_SERVER_DETECTION: 'none',
      });
      // Assess
      expect(r.code).toBe(EXIT.usage);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(
        /^error: no usable Google credentials \(.*Could not load the default credentials.*\); sign in with: gcloud auth application-default login /,
      );
      expect(r.stderr).not.toContain('transient');
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
