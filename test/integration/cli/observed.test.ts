import type { CliDeps } from '../../../cli/deps';
import { EXIT } from '../../../cli/exit-codes';
import { classifyMessage } from '../../../shared/events/rotation-request';
import { handleRotationRequest } from '../../../shared/rotation/rotator';
import { readHistory } from '../../../shared/rotation/state';
import { secretStoreFromEnv } from '../../../shared/runtime/deps';
import {
  createRotationHarness,
  type ManagedSecret,
  type RotationHarness,
} from '../../support/rotation-harness';
import { cliRunner, json } from './cli-runner';

/**
 * The CLI as an operator observed it (issue 15): `rotate --wait` on a terminal and in a pipe,
 * Ctrl-C, ISO times and one duration in every JSON document, `--requested-by`'s default, the
 * versions table of `history`, and the local stack being down.
 */
let h: RotationHarness;
let cli: ReturnType<typeof cliRunner>;
const ESC = '\u001b';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

beforeAll(async () => {
  h = await createRotationHarness();
  cli = cliRunner(h);
});

afterAll(async () => {
  h.assertNoPasswordInLogs();
  await h.stop();
});

const shortId = (s: ManagedSecret) => s.name.split('/').pop() as string;

/** rotateSecret's part: take the request the CLI published (the nth) and run it. */
async function deliverPublished(n: number) {
  const deadline = Date.now() + 10_000;
  while (cli.published.length < n) {
    if (Date.now() > deadline) throw new Error('nothing was published');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const p = cli.published[n - 1] as (typeof cli.published)[number];
  const classified = classifyMessage(
    {
      eventId: `m-${n}`,
      messageId: `m-${n}`,
      publishTime: Date.now(),
      attributes: p.attributes,
      body: p.data,
    },
    Date.now(),
  );
  if (classified.kind !== 'rotate') throw new Error('not a rotation request');
  return handleRotationRequest(classified.request, h.deps);
}

describe('rotate --wait', () => {
  it('--json gives ISO 8601 times and the same duration as history', async () => {
    // Prepare
    const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    const driven = deliverPublished(cli.published.length + 1);
    // Act
    const r = await cli.run(['rotate', shortId(secret), '--wait', '--json']);
    await driven;
    const history = await cli.run(['history', shortId(secret), '--json']);
    // Assess
    expect(r.code).toBe(EXIT.ok);
    const outcome = json(r).outcome as Record<string, unknown>;
    expect(outcome.startedAt).toMatch(ISO);
    expect(outcome.completedAt).toMatch(ISO);
    expect(outcome.durationMs).toBe(
      Date.parse(outcome.completedAt as string) - Date.parse(outcome.startedAt as string),
    );
    const [first] = json(history).rotations as Record<string, unknown>[];
    const { fromVersionState: _state, ...sameShape } = first as Record<string, unknown>;
    expect(outcome).toEqual(sameShape);
  });

  it('on a terminal, redraws a waiting line with the elapsed time on stderr; stdout stays clean', async () => {
    const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    const r = await cli.run(['rotate', shortId(secret), '--wait', '--timeout', '1s'], {
      stderrIsTTY: true,
    });
    expect(r.code).toBe(EXIT.transient);
    expect(r.stderr).toContain(`\r${ESC}[2K  … waiting for rotateSecret to start it · `);
    expect(r.stderr).toMatch(/ · [\d.]+m?s elapsed \(Ctrl-C stops waiting, not the rotation\)/);
    expect(r.stdout).not.toMatch(/\r|elapsed/);
    expect(r.stdout).not.toContain(ESC);
  });

  it('in a pipe, prints no waiting line and no control characters', async () => {
    const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    const r = await cli.run(['rotate', shortId(secret), '--wait', '--timeout', '1s']);
    expect(r.code).toBe(EXIT.transient);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/\r|elapsed/);
    expect(`${r.stdout}${r.stderr}`).not.toContain(ESC);
  });

  it('on Ctrl-C says the rotation continues and how to follow it, exit 130', async () => {
    // Prepare: nothing runs the rotation; Ctrl-C comes while the CLI waits.
    const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    let listening = false;
    const onInterrupt: CliDeps['onInterrupt'] = (handler) => {
      listening = true;
      const timer = setTimeout(handler, 300);
      return () => {
        listening = false;
        clearTimeout(timer);
      };
    };
    // Act
    const started = Date.now();
    const r = await cli.run(['rotate', shortId(secret), '--wait', '--timeout', '60s'], {
      onInterrupt,
    });
    // Assess: it stopped at once, not at the timeout, and let go of the signal.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(listening).toBe(false);
    expect(r.code).toBe(EXIT.interrupted);
    const rotationId = /rotation id: +(rot-\w+)/.exec(r.stdout)?.[1] as string;
    expect(r.stderr).toContain(
      `interrupted: stopped waiting, but rotation ${rotationId} continues in the pipeline.\nfollow it with: gsm-rotator history ${shortId(secret)}\nor in Logs Explorer: labels.rotation_id="${rotationId}"\n`,
    );
    // And it does continue: the request is out there.
    await expect(deliverPublished(cli.published.length)).resolves.toMatchObject({
      action: 'completed',
      rotationId,
    });
  });
});

describe('rotate --requested-by', () => {
  it('defaults to the signed-in Google identity, recorded with the rotation', async () => {
    const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    const r = await cli.run(['rotate', shortId(secret)], {
      env: { GCP_PROJECT: 'test-project', USER: 'alice' },
      identity: async () => 'alice@example.com',
    });
    expect(r.code).toBe(EXIT.ok);
    await deliverPublished(cli.published.length);
    expect(JSON.parse(cli.published.at(-1)?.data as string).requestedBy).toBe('alice@example.com');
    expect(readHistory((await h.store.getSecret(secret.name)).annotations)[0]?.requestedBy).toBe(
      'alice@example.com',
    );
  });

  it('falls back to $USER without a Google identity', async () => {
    const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    const r = await cli.run(['rotate', shortId(secret)], {
      env: { GCP_PROJECT: 'test-project', USER: 'alice' },
      identity: async () => {
        throw new Error('Could not load the default credentials.');
      },
    });
    expect(r.code).toBe(EXIT.ok);
    expect(JSON.parse(cli.published.at(-1)?.data as string).requestedBy).toBe('alice');
  });
});

describe('history: the versions table', () => {
  let secret: ManagedSecret;

  beforeAll(async () => {
    // Versions 1..5; 1 and 2 destroyed (as retention does), 5 the newest.
    secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    for (let i = 0; i < 4; i++) {
      await h.client.addSecretVersion({
        parent: secret.name,
        payload: { data: Buffer.from(`{"filler":${i}}`) },
      });
    }
    for (const n of [1, 2])
      await h.client.destroySecretVersion({ name: `${secret.name}/versions/${n}` });
  });

  const versionRows = (stdout: string) =>
    stdout
      .split('VERSION  ')[1]
      ?.split('\n')
      .slice(1)
      .filter((l) => /^\d/.test(l))
      .map((l) => Number(l.split(/\s+/)[0]));

  it('hides destroyed versions, and says so', async () => {
    const r = await cli.run(['history', shortId(secret)]);
    expect(r.code).toBe(EXIT.ok);
    expect(versionRows(r.stdout)).toEqual([5, 4, 3]);
    expect(r.stdout).toContain('(2 version(s) not shown: 2 destroyed (--all shows them))\n');
  });

  it('shows them with --all', async () => {
    const r = await cli.run(['history', shortId(secret), '--all']);
    expect(versionRows(r.stdout)).toEqual([5, 4, 3, 2, 1]);
    expect(r.stdout).not.toContain('not shown');
  });

  it('--limit N limits the versions to the newest N+1, in tables and JSON', async () => {
    const table = await cli.run(['history', shortId(secret), '--limit', '1']);
    expect(versionRows(table.stdout)).toEqual([5, 4]);
    expect(table.stdout).toContain(
      '(3 version(s) not shown: 2 destroyed (--all shows them), 1 older (beyond --limit))\n',
    );
    const doc = json(await cli.run(['history', shortId(secret), '--limit', '1', '--json']));
    expect((doc.versions as { number: number; createdAt: string }[]).map((v) => v.number)).toEqual([
      5, 4,
    ]);
    expect((doc.versions as { createdAt: string }[])[0]?.createdAt).toMatch(ISO);
  });
});

describe('the local stack is down', () => {
  it('names the emulator address it tried and `npm start`, without gRPC noise (exit 4)', async () => {
    const env = { GCP_PROJECT: 'test-project', SECRET_MANAGER_EMULATOR_HOST: '127.0.0.1:9' };
    const nowhere = secretStoreFromEnv(undefined, env);
    const r = await cli.run(['status'], { store: nowhere, env });
    await nowhere.close();
    expect(r.code).toBe(EXIT.transient);
    expect(r.stderr).toBe(
      'error: cannot reach the Secret Manager emulator at 127.0.0.1:9 (SECRET_MANAGER_EMULATOR_HOST): is the local stack running? Start it with `npm start` in another terminal, or unset the emulator variables to use Google Cloud (transient: try again)\n',
    );
  });
});
