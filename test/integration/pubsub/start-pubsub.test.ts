import { startPubSub } from '../../../emulator/pubsub/start';

const VARS = ['GSM_PUBSUB', 'REQUIRE_PUBSUB_EMULATOR', 'PUBSUB_EMULATOR_BIN'] as const;

/** Runs `fn` with these environment variables set (undefined = unset), restoring them after. */
async function withEnv<T>(
  vars: Partial<Record<(typeof VARS)[number], string>>,
  fn: () => Promise<T>,
): Promise<T> {
  const saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));
  for (const v of VARS) {
    const value = vars[v];
    if (value === undefined) delete process.env[v];
    else process.env[v] = value;
  }
  try {
    return await fn();
  } finally {
    for (const v of VARS) {
      const value = saved[v];
      if (value === undefined) delete process.env[v];
      else process.env[v] = value;
    }
  }
}

describe('startPubSub backend choice (runs on any machine)', () => {
  test('GSM_PUBSUB=in-process forces the stand-in under auto', async () => {
    const pubsub = await withEnv({ GSM_PUBSUB: 'in-process' }, () => startPubSub());
    await pubsub.stop();
    expect(pubsub.kind).toBe('in-process');
    expect(pubsub.reason).toBe('GSM_PUBSUB asked for the in-process stand-in');
    expect(pubsub.env).toEqual({
      PUBSUB_EMULATOR_HOST: pubsub.host,
      PUBSUB_PROJECT_ID: 'gsm-rotator-local',
    });
  });

  test('without the official emulator, auto falls back to the stand-in and says why', async () => {
    const pubsub = await withEnv(
      { PUBSUB_EMULATOR_BIN: '/nonexistent/cloud-pubsub-emulator' },
      () => startPubSub({ prefer: 'auto', projectId: 'my-project-1' }),
    );
    await pubsub.stop();
    expect(pubsub.kind).toBe('in-process');
    expect(pubsub.reason).toBe(
      'no official Pub/Sub emulator at /nonexistent/cloud-pubsub-emulator; using the in-process stand-in',
    );
    expect(pubsub.projectId).toBe('my-project-1');
  });

  test('REQUIRE_PUBSUB_EMULATOR=1 turns the fallback into an error', async () => {
    await expect(
      withEnv(
        { PUBSUB_EMULATOR_BIN: '/nonexistent/cloud-pubsub-emulator', REQUIRE_PUBSUB_EMULATOR: '1' },
        () => startPubSub(),
      ),
    ).rejects.toThrow(
      'REQUIRE_PUBSUB_EMULATOR=1 but no official Pub/Sub emulator at /nonexistent/cloud-pubsub-emulator',
    );
  });

  test("prefer 'official' without the emulator is an error, not a fallback", async () => {
    await expect(
      withEnv({ PUBSUB_EMULATOR_BIN: '/nonexistent/cloud-pubsub-emulator' }, () =>
        startPubSub({ prefer: 'official' }),
      ),
    ).rejects.toThrow(/asked for the official Pub\/Sub emulator: no official Pub\/Sub emulator/);
  });

  test('an explicit port is honoured', async () => {
    const probe = await startPubSub({ prefer: 'in-process' });
    const port = Number(probe.host.split(':')[1]);
    await probe.stop();
    const pubsub = await startPubSub({ prefer: 'in-process', port });
    await pubsub.stop();
    expect(pubsub.host).toBe(`127.0.0.1:${port}`);
  });
});
