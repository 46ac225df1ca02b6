import { randomBytes } from 'node:crypto';
import { PubSub, type Subscription } from '@google-cloud/pubsub';
import { mapWithConcurrency } from '../../shared/concurrency';
import { RotationOutcomeSchema } from '../../shared/events/rotation-outcome';
import { pubsubCloudEvent, secretNotification } from '../fixtures/events';
import { postCloudEvent } from '../support/cloud-event-http';
import { canLogin } from '../support/db-fixtures';
import { type FunctionProcess, startFunctionProcess } from '../support/function-process';
import { holdLock } from '../support/lock-holder';
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
 */
const FAILPOINTS = [
  'claimed',
  'version-added',
  'step:create',
  'db-applied',
  'step:set',
  'step:test',
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
  const env = {
    SECRET_MANAGER_EMULATOR_HOST: h.env.SECRET_MANAGER_EMULATOR_HOST,
    GCP_PROJECT: PROJECT,
    ROTATION_EVENTS_TOPIC: `projects/${PROJECT}/topics/${TOPIC}`,
    // A killed worker's lease expires quickly, so the redelivery can take over; long enough for
    // the fenced database sessions (a fifth of it is the margin) to fit on a loaded machine.
    ROTATOR_LEASE_SECONDS: String(LEASE_MS / 1000),
    ROTATOR_TEST_RETRY_MS: '50',
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

/** Some enabled version holds a credential the database accepts. */
async function somethingLogsIn(secret: ManagedSecret): Promise<boolean> {
  for (const v of await h.store.listVersions(secret.name)) {
    if (v.state === 'ENABLED' && (await h.versionLogsIn(secret, v.number))) return true;
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
      expect((await victim.exited).signal).toBe('SIGKILL');
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
