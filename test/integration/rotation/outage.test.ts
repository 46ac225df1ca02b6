import { randomBytes, randomUUID } from 'node:crypto';
import { adminPayload, canLogin, createLogin, loginPayload } from '../../../devtools/db-fixtures';
import { pubsubCloudEvent, secretNotification } from '../../../devtools/events';
import { type PostgresServer, startPostgres } from '../../../devtools/postgres-server';
import { makeRetireVersions } from '../../../functions/retire-versions';
import { makeRotateSecret } from '../../../functions/rotate-secret';
import { CONFIG_KEYS } from '../../../shared/config/annotations';
import type { EngineName } from '../../../shared/engines/engine';
import { ConditionMemory } from '../../../shared/retirement/condition-memory';
import { retireSecret } from '../../../shared/retirement/retire-secret';
import type { RotatorDeps } from '../../../shared/rotation/context';
import { handleRotationRequest } from '../../../shared/rotation/rotator';
import { parseSettings } from '../../../shared/runtime/settings';
import {
  createRotationHarness,
  type ManagedSecret,
  PROJECT,
  type RotationHarness,
  servedLogins,
} from '../../support/rotation-harness';

/**
 * A database blip must not page anyone or lose events: with the database stopped, a scheduled
 * rotation is handed back to Pub/Sub (never acknowledged as done, never dead-lettered by a
 * permanent answer), the retire ticks of the outage report no overdue ERROR, and the redelivery
 * after the database is back completes the rotation. An outage during retirement fails that one
 * secret's retirement once, releases its `retiring` lease, and the next tick after it retires.
 */
let h: RotationHarness;
let server: PostgresServer;
let adminSecret: string;
const MIN = 60_000;
const HOUR = 60 * MIN;

beforeAll(async () => {
  h = await createRotationHarness();
  server = await startPostgres();
  adminSecret = `projects/${PROJECT}/secrets/admin-outage-${randomBytes(3).toString('hex')}`;
  await h.client.createSecret({
    parent: `projects/${PROJECT}`,
    secretId: adminSecret.split('/').pop() as string,
    secret: { replication: { automatic: {} } },
  });
  await h.addVersion(adminSecret, adminPayload('postgres', server));
});
afterAll(async () => {
  await server.stop();
  h.assertNoPasswordInLogs();
  await h.stop();
});

async function secretOnOwnServer(annotations: Record<string, string> = {}): Promise<ManagedSecret> {
  const id = `o${randomBytes(4).toString('hex')}`;
  const fixture = await createLogin('postgres', server, id);
  h.passwords.add(fixture.password);
  const name = `projects/${PROJECT}/secrets/db-${id}`;
  await h.client.createSecret({
    parent: `projects/${PROJECT}`,
    secretId: `db-${id}`,
    secret: {
      replication: { automatic: {} },
      labels: { rotator: 'managed' },
      annotations: {
        [CONFIG_KEYS.engine]: 'postgres',
        [CONFIG_KEYS.strategy]: 'alternating-users',
        [CONFIG_KEYS.adminSecret]: adminSecret,
        [CONFIG_KEYS.testQuery]: `SELECT count(*) FROM ${fixture.table}`,
        ...annotations,
      },
    },
  });
  await h.addVersion(name, loginPayload(fixture));
  await h.serve(adminSecret, name, servedLogins('alternating-users', fixture.username));
  return { name, fixture, server };
}

/** Retire ticks at `offsetMs` from now, as the deployed tick would run them. */
function tickAt(offsetMs: number, memory: ConditionMemory) {
  return async (secret: ManagedSecret) =>
    retireSecret(await h.store.getSecret(secret.name), {
      store: h.store,
      engineFor: h.deps.engineFor,
      clock: { now: () => Date.now() + offsetMs, sleep: async () => undefined },
      logger: h.deps.logger,
      newHolderId: () => randomUUID(),
      leaseMs: 60_000,
      overdueMarginMs: HOUR,
      overdueMemory: memory,
      minGracePeriodMs: 0,
    });
}

const about = (e: Record<string, unknown>, secret: ManagedSecret) =>
  JSON.stringify(e).includes(secret.name);

it('a database outage during a scheduled rotation: redelivered, no overdue ERROR, completes when back', async () => {
  // Prepare: the database goes away as the rotation reaches it.
  const secret = await secretOnOwnServer();
  const deps: RotatorDeps = {
    ...h.deps,
    engineFor: (n: EngineName) => {
      const engine = h.deps.engineFor(n);
      return {
        ...engine,
        withSession: async (...args) => {
          if (killNext) {
            killNext = false;
            await server.kill();
          }
          return engine.withSession(...args);
        },
      };
    },
  };
  let killNext = true;
  const rotateSecret = makeRotateSecret(() => deps);
  const event = pubsubCloudEvent(
    secretNotification('SECRET_ROTATE', secret.name, {
      timestamp: new Date().toISOString().replace('Z', '+00:00'),
    }),
  );

  // Act: the delivery during the outage, then retire ticks 1, 5 and 11 minutes later (Pub/Sub's
  // backoff is at most 10 minutes, so the redelivery can still come).
  await expect(rotateSecret(event)).rejects.toThrow(/redelivery requested/);
  const memory = new ConditionMemory();
  for (const offset of [MIN, 5 * MIN, 11 * MIN]) await tickAt(offset, memory)(secret);

  // Assess: no overdue ERROR, nothing acknowledged as rejected.
  const bad = h.sink
    .entries()
    .filter(
      (e) => about(e, secret) && ['rotation.overdue', 'event.rejected'].includes(String(e.event)),
    );
  expect(bad).toEqual([]);

  // Act: the database is back; Pub/Sub redelivers the same event.
  await server.start();
  await rotateSecret(event);

  // Assess
  const s = await h.snapshot(secret);
  expect(s.secret.aliases).toEqual({ current: 2, previous: 1 });
  expect(s.history[0]).toMatchObject({ trigger: 'schedule', outcome: 'succeeded', attempts: 2 });
  await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
});

it('an overdue condition is reported once per secret and change, not once per tick', async () => {
  // Prepare: a rotation whose worker died: nothing came back for two hours.
  const secret = await secretOnOwnServer();
  await server.start().catch(() => undefined);
  const deps: RotatorDeps = {
    ...h.deps,
    failpoint: (point) => {
      if (point === 'step:create') throw new Error('killed (simulated)');
    },
  };
  await expect(
    makeRotateSecret(() => deps)(
      pubsubCloudEvent(
        secretNotification('SECRET_ROTATE', secret.name, {
          timestamp: new Date().toISOString().replace('Z', '+00:00'),
        }),
      ),
    ),
  ).rejects.toThrow();
  const memory = new ConditionMemory();

  // Act: three ticks, two hours later.
  for (let i = 0; i < 3; i++) await tickAt(2 * HOUR + i * MIN, memory)(secret);

  // Assess: one ERROR.
  const overdue = h.sink
    .entries()
    .filter((e) => about(e, secret) && e.event === 'rotation.overdue');
  expect(overdue).toHaveLength(1);
  expect(overdue[0]).toMatchObject({ severity: 'ERROR', reason: expect.stringMatching(/stalled/) });
});

it('a database outage during retirement: retire.failed once, the lease released, retired when back', async () => {
  // Prepare: a completed rotation whose previous version is due (grace 1 s, no consumers).
  await server.start().catch(() => undefined);
  const secret = await secretOnOwnServer({ [CONFIG_KEYS.gracePeriod]: '1s' });
  await expect(
    handleRotationRequest(
      {
        secret: secret.name,
        trigger: 'on-demand',
        requestKey: `on-demand:outage-${randomUUID()}`,
        requestedAt: Date.now(),
      },
      h.deps,
    ),
  ).resolves.toMatchObject({ action: 'completed', version: 2 });
  // Version 1 holds the fixture's own login.
  const old = secret.fixture;
  const runtime = {
    ...parseSettings({ GCP_PROJECT: PROJECT }),
    locations: [],
    minGracePeriodMs: 0,
  };
  const retireVersions = makeRetireVersions(() => ({
    ...h.deps,
    clock: { now: () => Date.now() + MIN, sleep: async () => undefined },
    runtime,
  }));
  const tick = () =>
    retireVersions(pubsubCloudEvent({ data: {} }, `projects/${PROJECT}/topics/retire-tick`));
  const from = h.sink.entries().length;

  // Act: the database goes away, then the tick that is due to revoke `previous`, and the next.
  await server.kill();
  await tick();
  await tick();

  // Assess: one retire.failed ERROR for the secret over both ticks (the second is DEBUG), no
  // overdue ERROR, the `retiring` lease given up (a rotation request is not refused as busy),
  // previous still in place.
  const during = h.sink
    .entries()
    .slice(from)
    .filter((e) => about(e, secret));
  const failed = during.filter((e) => e.event === 'retire.failed');
  expect(failed.map((e) => e.severity)).toEqual(['ERROR', 'DEBUG']);
  expect(during.filter((e) => e.event === 'rotation.overdue')).toEqual([]);
  const s1 = await h.snapshot(secret);
  expect(s1.state.retiring).toBeUndefined();
  expect(s1.secret.aliases).toEqual({ current: 2, previous: 1 });

  // Act: the database is back; the next tick.
  await server.start();
  await tick();

  // Assess: previous retired (its login revoked, its version disabled), current still logs in.
  const s2 = await h.snapshot(secret);
  expect(s2.secret.aliases).toEqual({ current: 2 });
  expect(s2.versions.find((v) => v.number === 1)?.state).toBe('DISABLED');
  await expect(
    canLogin('postgres', server, secret.fixture.database, old.username, old.password),
  ).resolves.toBe(false);
  await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
  expect(
    h.sink
      .entries()
      .slice(from)
      .filter((e) => about(e, secret) && e.event === 'retire.failed' && e.severity === 'ERROR'),
  ).toHaveLength(1);
});
