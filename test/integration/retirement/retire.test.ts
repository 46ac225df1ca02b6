import { randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import { Client } from 'pg';
import { canLogin } from '../../../devtools/db-fixtures';
import { pubsubCloudEvent } from '../../../devtools/events';
import { ManualClock } from '../../../devtools/manual-clock';
import { makeRetireVersions } from '../../../functions/retire-versions';
import { CONFIG_KEYS, STATE_KEYS } from '../../../shared/config/annotations';
import { engineFor } from '../../../shared/engines/registry';
import type { RotationRequest } from '../../../shared/events/rotation-request';
import type { RetireDeps } from '../../../shared/retirement/retire-secret';
import { retireSecret } from '../../../shared/retirement/retire-secret';
import { handleRotationRequest } from '../../../shared/rotation/rotator';
import { parseSettings } from '../../../shared/runtime/settings';
import {
  createRotationHarness,
  type ManagedSecret,
  PROJECT,
  type RotationHarness,
} from '../../support/rotation-harness';

/**
 * Retirement against the real servers and the emulator, on a clock the test moves: the grace
 * window, waiting for consumers and the maximum grace, revocation proven by real logins, retention,
 * overdue detection and overlapping ticks.
 */
const HOUR = 3_600_000;
const clock = new ManualClock(Date.now());
let h: RotationHarness;
let retireDeps: RetireDeps;

beforeAll(async () => {
  h = await createRotationHarness({ clock });
  retireDeps = {
    store: h.store,
    engineFor: (n) => engineFor(n),
    clock,
    logger: h.deps.logger,
    newHolderId: () => randomUUID(),
    leaseMs: 60_000,
    overdueMarginMs: HOUR,
  };
});
afterAll(async () => {
  h.assertNoPasswordInLogs();
  await h.stop();
});

const rotate = (secret: ManagedSecret) => {
  // Each request is newer than the last rotation's start, as a real one would be.
  clock.advance(1000);
  const request: RotationRequest = {
    secret: secret.name,
    trigger: 'on-demand',
    requestKey: `on-demand:${randomUUID()}`,
    requestedAt: clock.now(),
  };
  clock.advance(1000);
  return handleRotationRequest(request, h.deps);
};
const tick = async (secret: ManagedSecret) =>
  retireSecret(await h.store.getSecret(secret.name), retireDeps);
const events = (name: string) => h.sink.entries().filter((e) => e.event === name);

describe.each([
  ['postgres', 'alternating-users'],
  ['mariadb', 'alternating-users'],
  ['mariadb', 'dual-password'],
] as const)('%s %s', (engine, strategy) => {
  it('keeps previous working through the grace window, then revokes it and disables its version', async () => {
    const secret = await h.createManagedSecret({ engine, strategy });
    await rotate(secret);
    // Within the grace period nothing happens.
    clock.advance(HOUR - 5000);
    expect((await tick(secret)).waiting).toMatch(/grace period/);
    await expect(h.versionLogsIn(secret, 1)).resolves.toBe(true);
    // After it: revoked in the database, version disabled, alias dropped, history updated.
    clock.advance(10_000);
    const plan = await tick(secret);
    expect(plan.actions).toEqual([
      { kind: 'retire-previous', version: 1, unconfirmed: [], forced: false },
    ]);
    const s = await h.snapshot(secret);
    expect(s.secret.aliases).toEqual({ current: 2 });
    expect(s.versions.find((v) => v.number === 1)?.state).toBe('DISABLED');
    expect(s.history[0]?.retiredAt).toBe(clock.now());
    const f = secret.fixture;
    await expect(canLogin(engine, secret.server, f.database, f.username, f.password)).resolves.toBe(
      false,
    );
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
    // A second tick has nothing left to do.
    expect((await tick(secret)).actions).toEqual([]);
  });
});

it('logs the live sessions of the old login before revoking it', async () => {
  const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'alternating-users' });
  const session = new Client({
    host: secret.server.host,
    port: secret.server.port,
    user: secret.fixture.username,
    password: secret.fixture.password,
    database: secret.fixture.database,
  });
  await session.connect();
  try {
    await rotate(secret);
    clock.advance(HOUR + 1000);
    await tick(secret);
    const revoke = events('retire.revoke').find((e) => e.login === secret.fixture.username);
    expect(revoke).toMatchObject({ liveSessions: 1, version: 1 });
    // The open session survives (NOLOGIN stops new logins only); new logins are refused.
    await expect(session.query('SELECT 1 AS ok')).resolves.toMatchObject({ rows: [{ ok: 1 }] });
  } finally {
    await session.end();
  }
});

it('MariaDB: counts sessions from the processlist', async () => {
  const secret = await h.createManagedSecret({ engine: 'mariadb', strategy: 'dual-password' });
  const c = await mysql.createConnection({
    host: secret.server.host,
    port: secret.server.port,
    user: secret.fixture.username,
    password: secret.fixture.password,
  });
  try {
    await rotate(secret);
    clock.advance(HOUR + 1000);
    await tick(secret);
    expect(events('retire.revoke').find((e) => e.login === secret.fixture.username)).toMatchObject({
      liveSessions: 1,
    });
  } finally {
    await c.end();
  }
});

it('single-user: nothing to revoke, the old version is disabled after the grace', async () => {
  const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
  await rotate(secret);
  clock.advance(HOUR + 1000);
  const plan = await tick(secret);
  expect(plan.actions.map((a) => a.kind)).toEqual(['retire-previous']);
  expect(
    events('retire.revoke').some(
      (e) => (e['logging.googleapis.com/labels'] as Record<string, string>).secret === secret.name,
    ),
  ).toBe(false);
  expect((await h.snapshot(secret)).versions.find((v) => v.number === 1)?.state).toBe('DISABLED');
});

describe('consumers', () => {
  const consumers = JSON.stringify({
    workspace: { host: 'https://dbc-1234.cloud.databricks.com', auth: { type: 'google-id' } },
    targets: [
      { kind: 'job', jobId: 11, mode: 'continuous' },
      { kind: 'cluster', clusterId: 'etl-cluster' },
    ],
  });
  const annotations = { [CONFIG_KEYS.consumers]: consumers, [CONFIG_KEYS.maxGracePeriod]: '3h' };

  async function recordRefresh(secret: ManagedSecret, statuses: Record<string, 'done' | 'failed'>) {
    const snap = await h.store.getSecret(secret.name);
    const record = {
      rotationId: 'rot-x',
      version: snap.aliases.current,
      updatedAt: clock.now(),
      targets: Object.entries(statuses).map(([id, status]) => ({
        id,
        kind: id.split(':')[0],
        status,
      })),
    };
    await h.store.updateSecret(snap, {
      annotations: { ...snap.annotations, [STATE_KEYS.refresh]: JSON.stringify(record) },
    });
  }

  it('waits for every consumer to confirm, then retires without warning', async () => {
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'alternating-users',
      annotations,
    });
    await rotate(secret);
    clock.advance(HOUR + 1000);
    expect((await tick(secret)).waiting).toMatch(
      /waiting for consumers \(job:11, cluster:etl-cluster\)/,
    );
    await recordRefresh(secret, { 'job:11': 'done', 'cluster:etl-cluster': 'failed' });
    expect((await tick(secret)).waiting).toMatch(/waiting for consumers \(cluster:etl-cluster\)/);
    await expect(h.versionLogsIn(secret, 1)).resolves.toBe(true);
    await recordRefresh(secret, { 'job:11': 'done', 'cluster:etl-cluster': 'done' });
    expect((await tick(secret)).actions).toEqual([
      { kind: 'retire-previous', version: 1, unconfirmed: [], forced: false },
    ]);
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
  });

  it('retires anyway at the maximum grace, naming the consumers that never confirmed', async () => {
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'alternating-users',
      annotations,
    });
    await rotate(secret);
    await recordRefresh(secret, { 'job:11': 'done' });
    clock.advance(3 * HOUR + 1000);
    const plan = await tick(secret);
    expect(plan.actions).toEqual([
      { kind: 'retire-previous', version: 1, unconfirmed: ['cluster:etl-cluster'], forced: true },
    ]);
    const warning = events('retire.unconfirmed').find(
      (e) => (e['logging.googleapis.com/labels'] as Record<string, string>).secret === secret.name,
    );
    expect(warning).toMatchObject({ severity: 'WARNING', consumers: ['cluster:etl-cluster'] });
  });

  it('ignores confirmations recorded for an older version', async () => {
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'alternating-users',
      annotations,
    });
    await rotate(secret);
    await recordRefresh(secret, { 'job:11': 'done', 'cluster:etl-cluster': 'done' });
    clock.advance(HOUR + 1000);
    await tick(secret);
    await rotate(secret);
    clock.advance(HOUR + 1000);
    expect((await tick(secret)).waiting).toMatch(/waiting for consumers/);
  });
});

it('destroys disabled versions beyond the retention, never current, previous or latest', async () => {
  const secret = await h.createManagedSecret({
    engine: 'postgres',
    strategy: 'single-user',
    annotations: { [CONFIG_KEYS.retentionVersions]: '2' },
  });
  for (let i = 0; i < 3; i++) await rotate(secret);
  clock.advance(HOUR + 1000);
  await tick(secret); // retires previous (3), disables the superseded 1 and 2
  await tick(secret); // destroys what lies beyond the newest two
  const s = await h.snapshot(secret);
  expect(s.versions.map((v) => [v.number, v.state])).toEqual([
    [4, 'ENABLED'],
    [3, 'DISABLED'],
    [2, 'DESTROYED'],
    [1, 'DESTROYED'],
  ]);
  expect(s.secret.aliases).toEqual({ current: 4 });
  await expect(h.versionLogsIn(secret, 4)).resolves.toBe(true);
  expect(
    (await h.client.accessSecretVersion({ name: `${secret.name}/versions/latest` }))[0].payload
      ?.data,
  ).toBeTruthy();
});

it('destroys by age too', async () => {
  const secret = await h.createManagedSecret({
    engine: 'mariadb',
    strategy: 'single-user',
    annotations: { [CONFIG_KEYS.retentionDays]: '1' },
  });
  await rotate(secret);
  await rotate(secret);
  clock.advance(HOUR + 1000);
  await tick(secret);
  clock.advance(2 * 24 * HOUR);
  const plan = await tick(secret);
  // 3 is current (and latest); the retired 2 and the superseded 1 are past the age limit.
  expect(plan.actions).toEqual([
    { kind: 'destroy', version: 2, why: 'age' },
    { kind: 'destroy', version: 1, why: 'age' },
  ]);
});

it('two overlapping ticks retire once', async () => {
  const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'alternating-users' });
  await rotate(secret);
  clock.advance(HOUR + 1000);
  const snap = await h.store.getSecret(secret.name);
  await Promise.all([retireSecret(snap, retireDeps), retireSecret(snap, retireDeps)]);
  const revokes = events('retire.version').filter(
    (e) => (e['logging.googleapis.com/labels'] as Record<string, string>).secret === secret.name,
  );
  expect(revokes).toHaveLength(1);
  const s = await h.snapshot(secret);
  expect(s.secret.aliases).toEqual({ current: 2 });
  expect(s.state.retiring).toBeUndefined();
  await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
});

it('reports a failed secret as overdue with an ERROR', async () => {
  const secret = await h.createManagedSecret({
    engine: 'postgres',
    strategy: 'single-user',
    annotations: { [CONFIG_KEYS.testQuery]: 'SELECT * FROM nowhere_at_all' },
  });
  await rotate(secret);
  await tick(secret);
  const overdue = events('rotation.overdue').find(
    (e) => (e['logging.googleapis.com/labels'] as Record<string, string>).secret === secret.name,
  );
  expect(overdue).toMatchObject({
    severity: 'ERROR',
    reason: expect.stringMatching(/^last rotation failed/),
  });
});

it('retireVersions lists managed secrets by label and retires what is due', async () => {
  const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'alternating-users' });
  await rotate(secret);
  clock.advance(HOUR + 1000);
  const runtime = { ...parseSettings({ GCP_PROJECT: PROJECT }), locations: [] };
  const fn = makeRetireVersions(() => ({ ...h.deps, engineFor: (n) => engineFor(n), runtime }));
  await fn(pubsubCloudEvent({ data: {} }, `projects/${PROJECT}/topics/retire-tick`));
  const s = await h.snapshot(secret);
  expect(s.secret.aliases).toEqual({ current: 2 });
  const done = h.sink
    .entries()
    .filter((e) => e.event === 'retire.tick')
    .at(-1);
  expect(done).toMatchObject({ failures: 0 });
  expect(Number(done?.secrets)).toBeGreaterThan(0);
});
