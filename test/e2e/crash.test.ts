import { randomBytes } from 'node:crypto';
import { PubSub, type Subscription } from '@google-cloud/pubsub';
import { Client } from 'pg';
import { postCloudEvent } from '../../devtools/cloud-event-http';
import { canLogin } from '../../devtools/db-fixtures';
import { onDemandRequest, pubsubCloudEvent, secretNotification } from '../../devtools/events';
import { type FunctionProcess, startFunctionProcess } from '../../devtools/function-process';
import { holdLock } from '../../devtools/lock-holder';
import { mapWithConcurrency } from '../../shared/concurrency';
import { RotationOutcomeSchema } from '../../shared/events/rotation-outcome';
import { destroyStaged, forgetStaged } from '../../shared/retirement/destroy-staged';
import { handleRotationRequest } from '../../shared/rotation/rotator';
import {
  createRotationHarness,
  type ManagedSecret,
  PROJECT,
  type RotationHarness,
} from '../support/rotation-harness';

/**
 * Invariant 1 and resumability, with real kills: a functions-framework process that SIGKILLs
 * itself at each point where a rotation is half done, then Pub/Sub's redelivery (the same
 * CloudEvent, posted again) to a healthy process. Nothing is lost, the rotation completes once.
 * An emergency rotation killed after its promote still revokes the leaked credential on redelivery.
 */
const FAILPOINTS = [
  // Before the staging add, and right after it (nothing recorded it yet).
  'claimed',
  'staged',
  'step:create',
  'db-applied',
  'step:set',
  'step:test',
  // Between the managed add and the alias move.
  'managed-added',
  'step:promote',
  'published',
  'step:announce',
] as const;

const LEASE_MS = 3_000;
const TOPIC = `rotation-events-crash-${randomBytes(3).toString('hex')}`;
let h: RotationHarness;
const STRATEGIES = ['single-user', 'alternating-users'] as const;
let healthy: FunctionProcess;
/** One process per (strategy, failpoint): each dies once. */
const doomed = new Map<string, FunctionProcess>();
let pubsub: PubSub;
let subscription: Subscription;
const outcomes: { rotationId: string; secret: string }[] = [];
/** The functions' environment, for processes a test starts itself. */
let env: Record<string, string>;

beforeAll(async () => {
  h = await createRotationHarness();
  pubsub = new PubSub({ projectId: PROJECT, emulatorMode: true, universeDomain: 'googleapis.com' });
  const [topic] = await pubsub.createTopic(TOPIC);
  const [sub] = await topic.createSubscription(`${TOPIC}-reader`);
  subscription = sub;
  sub.on('message', (m) => {
    outcomes.push(RotationOutcomeSchema.parse(JSON.parse(m.data.toString())));
    m.ack();
  });
  env = {
    SECRET_MANAGER_EMULATOR_HOST: h.env.SECRET_MANAGER_EMULATOR_HOST,
    GCP_PROJECT: PROJECT,
    ROTATION_EVENTS_TOPIC: `projects/${PROJECT}/topics/${TOPIC}`,
    // A killed worker's lease expires quickly, so the redelivery can take over; long enough for
    // the fenced database sessions (a fifth of it is the margin) to fit on a loaded machine.
    ROTATOR_LEASE_SECONDS: String(LEASE_MS / 1000),
    ROTATOR_TEST_RETRY_MS: '50',
    ROTATOR_STAGING_SECRET: h.stagingSecret,
    LOG_LEVEL: 'INFO',
  };
  healthy = await startFunctionProcess({
    source: 'functions/index.ts',
    target: 'rotateSecret',
    env,
  });
  const keys = STRATEGIES.flatMap((strategy) => FAILPOINTS.map((point) => ({ strategy, point })));
  await mapWithConcurrency(keys, 4, async ({ strategy, point }) => {
    const p = await startFunctionProcess({
      source: 'test/support/failpoint-entry.ts',
      target: 'rotateSecret',
      env: { ...env, GSM_FAILPOINT: point },
    });
    doomed.set(`${strategy}:${point}`, p);
  });
}, 180_000);

afterAll(async () => {
  const all = [healthy, ...doomed.values()].filter(Boolean);
  await Promise.all(all.map((p) => p.stop()));
  await subscription.close();
  await pubsub.close();
  h.assertNoPasswordInLogs(all.flatMap((p) => p.output));
  await h.stop();
});

/** The victim died of its failpoint's SIGKILL; anything else fails with the process's last lines. */
async function expectKilled(victim: FunctionProcess): Promise<void> {
  const exit = await victim.exited;
  if (exit.signal !== 'SIGKILL') {
    throw new Error(
      `the process was to die at its failpoint (SIGKILL) but exited ${JSON.stringify(exit)}:\n${victim.output.slice(-30).join('\n')}`,
    );
  }
}

/** Some enabled version (managed or staged) holds a credential the database accepts. */
async function somethingLogsIn(secret: ManagedSecret): Promise<boolean> {
  for (const v of await h.store.listVersions(secret.name)) {
    if (v.state === 'ENABLED' && (await h.versionLogsIn(secret, v.number))) return true;
  }
  for (const { credential: c } of await h.stagedFor(secret)) {
    const { engine } = secret.fixture;
    if (
      c &&
      (await canLogin(engine, secret.server, secret.fixture.database, c.username, c.password))
    )
      return true;
  }
  return false;
}

describe.each(STRATEGIES)('%s on PostgreSQL', (strategy) => {
  it.each(FAILPOINTS)(
    'killed at %s, then redelivered: completes once, nothing lost',
    async (point) => {
      // Prepare
      const secret = await h.createManagedSecret({ engine: 'postgres', strategy });
      const event = pubsubCloudEvent(secretNotification('SECRET_ROTATE', secret.name));
      const victim = doomed.get(`${strategy}:${point}`) as FunctionProcess;

      // Act 1: the delivery dies with the process.
      await expect(postCloudEvent(victim.url, event)).rejects.toThrow();
      await expectKilled(victim);
      // Invariant 1, at the worst moment: the database accepts a credential that is stored.
      expect(await somethingLogsIn(secret)).toBe(true);

      // Act 2: Pub/Sub redelivers (with backoff) until a worker acknowledges.
      let status = 0;
      for (let attempt = 0; attempt < 40 && status !== 204; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, 250));
        status = (await postCloudEvent(healthy.url, event)).status;
      }

      // Assess
      expect(status).toBe(204);
      const s = await h.snapshot(secret);
      expect(s.secret.aliases).toEqual({ current: 2, previous: 1 });
      expect(s.versions.map((v) => [v.number, v.state])).toEqual([
        [2, 'ENABLED'],
        [1, 'ENABLED'],
      ]);
      expect(s.state.status).toBe('idle');
      expect(s.history).toHaveLength(1);
      await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
      // The staging place: one staged credential (never added twice), the one promoted, handed
      // to retirement, which destroys it; a staged orphan never became a managed version.
      const staged = await h.stagedFor(secret);
      expect(staged).toHaveLength(1);
      expect(s.state.stagedToDestroy).toEqual([
        expect.objectContaining({ secret: h.stagingSecret, version: staged[0]?.version }),
      ]);
      const destroyed = await destroyStaged(
        s.secret,
        { store: h.store, stagingSecrets: [h.stagingSecret] },
        h.deps.logger,
      );
      await forgetStaged(h.store, s.secret, destroyed);
      expect((await h.stagedFor(secret)).map((v) => v.state)).toEqual(['DESTROYED']);
      expect((await h.snapshot(secret)).state.stagedToDestroy).toBeUndefined();
      await expect(h.versionLogsIn(secret, 1)).resolves.toBe(strategy === 'alternating-users');
      // Announced (twice only when killed between the publish and its record), under one id.
      const end = Date.now() + 10_000;
      while (!outcomes.some((o) => o.secret === secret.name) && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const announced = outcomes.filter((o) => o.secret === secret.name);
      expect(announced.length).toBeGreaterThanOrEqual(1);
      expect(new Set(announced.map((o) => o.rotationId)).size).toBe(1);
      // Another redelivery after completion does nothing.
      expect((await postCloudEvent(healthy.url, event)).status).toBe(204);
      expect((await h.store.listVersions(secret.name)).length).toBe(2);
    },
  );
});

describe('a worker stalled past its lease (a lock held by another session)', () => {
  /** What the database answers to the original login and every enabled version, in order. */
  async function answers(secret: ManagedSecret): Promise<boolean[]> {
    const { fixture } = secret;
    const out = [
      await canLogin(
        'postgres',
        secret.server,
        fixture.database,
        fixture.username,
        fixture.password,
      ),
    ];
    for (const v of await h.store.listVersions(secret.name)) {
      if (v.state === 'ENABLED') out.push(await h.versionLogsIn(secret, v.number));
    }
    return out;
  }

  it('gives its ALTER ROLE up before the lease ends, never applies it later; the redelivery completes', async () => {
    const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    const event = pubsubCloudEvent(secretNotification('SECRET_ROTATE', secret.name));
    const release = await holdLock('postgres', secret.server, secret.fixture.username);
    const started = Date.now();
    // The worker reaches set and waits for the lock; the server abandons the statement in time.
    const first = await postCloudEvent(healthy.url, event);
    expect(first.status).not.toBe(204);
    await new Promise((r) => setTimeout(r, Math.max(0, started + LEASE_MS + 300 - Date.now())));
    const atLeaseEnd = await answers(secret);
    await release();
    await new Promise((r) => setTimeout(r, 500));
    expect(await answers(secret)).toEqual(atLeaseEnd);

    let status = 0;
    for (let attempt = 0; attempt < 40 && status !== 204; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 250));
      status = (await postCloudEvent(healthy.url, event)).status;
    }
    expect(status).toBe(204);
    const s = await h.snapshot(secret);
    expect(s.secret.aliases).toEqual({ current: 2, previous: 1 });
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
    expect(s.history).toHaveLength(1);
  }, 60_000);
});

describe('an emergency rotation killed between its promote and its revoke', () => {
  it('the redelivery leaves the leaked credential dead and its sessions ended', async () => {
    // Prepare: rotated once; the leaked credential is current (version 2), a session of it open.
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'alternating-users',
    });
    await handleRotationRequest(
      {
        secret: secret.name,
        trigger: 'on-demand',
        requestKey: `on-demand:crash-${randomBytes(4).toString('hex')}`,
        requestedAt: Date.now(),
      },
      h.deps,
    );
    const [leaked] = h.addedCredentials(secret);
    if (!leaked) throw new Error('no credential added');
    const attacker = new Client({
      host: secret.server.host,
      port: secret.server.port,
      user: leaked.username,
      password: leaked.password,
      database: secret.fixture.database,
    });
    attacker.on('error', () => undefined);
    await attacker.connect();
    // A worker that dies after promote (at the announce step), before the emergency revoke.
    const victim = await startFunctionProcess({
      source: 'test/support/failpoint-entry.ts',
      target: 'rotateSecret',
      env: { ...env, GSM_FAILPOINT: 'step:announce' },
    });
    doomed.set('emergency:step:announce', victim);
    const event = pubsubCloudEvent(
      onDemandRequest(secret.name, {
        emergency: true,
        reason: 'leaked in a CI log',
        requestId: `leak-${randomBytes(4).toString('hex')}`,
      }),
    );

    // Act 1: the delivery dies with the process, the new credential promoted.
    await expect(postCloudEvent(victim.url, event)).rejects.toThrow();
    await expectKilled(victim);
    expect((await h.snapshot(secret)).secret.aliases.current).toBe(3);
    // ...and not yet revoked: the leaked login still works until the redelivery.
    await expect(
      canLogin(
        'postgres',
        secret.server,
        secret.fixture.database,
        leaked.username,
        leaked.password,
      ),
    ).resolves.toBe(true);

    // Act 2: Pub/Sub redelivers until a worker acknowledges.
    let status = 0;
    for (let attempt = 0; attempt < 40 && status !== 204; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 250));
      status = (await postCloudEvent(healthy.url, event)).status;
    }

    // Assess: the leaked login is dead and its session ended; version 3 is the credential.
    expect(status).toBe(204);
    await expect(
      canLogin(
        'postgres',
        secret.server,
        secret.fixture.database,
        leaked.username,
        leaked.password,
      ),
    ).resolves.toBe(false);
    await expect(attacker.query('SELECT 1')).rejects.toThrow();
    await attacker.end().catch(() => undefined);
    const s = await h.snapshot(secret);
    expect(s.secret.aliases).toEqual({ current: 3 });
    await expect(h.versionLogsIn(secret, 3)).resolves.toBe(true);
  }, 60_000);
});
