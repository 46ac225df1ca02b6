import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { CliDeps } from '../../../cli/deps';
import { EXIT } from '../../../cli/exit-codes';
import { ManualClock } from '../../../devtools/manual-clock';
import { ALIASES } from '../../../shared/config/annotations';
import { engineFor } from '../../../shared/engines/registry';
import { RetryLaterError } from '../../../shared/errors';
import type { RotationRequest } from '../../../shared/events/rotation-request';
import { type RetireDeps, retireSecret } from '../../../shared/retirement/retire-secret';
import { handleRotationRequest } from '../../../shared/rotation/rotator';
import { readPause } from '../../../shared/schedule/pause';
import {
  canLogin,
  createRotationHarness,
  type ManagedSecret,
  PROJECT,
  type RotationHarness,
} from '../../support/rotation-harness';
import { cliRunner, json } from './cli-runner';

/**
 * `gsm-rotator rollback` against the real servers: a real login with the previous credential,
 * current == latest == that credential afterwards (and it logs in), the schedule paused, the
 * history entry, the consumers' refresh announced; the rolled-back credential retired after its
 * grace period like any previous one; refused (exit 5) after retirement and for single-user.
 */
const HOUR = 3_600_000;
const TOPIC = `projects/${PROJECT}/topics/rotation-events`;
const clock = new ManualClock(Date.now());
let h: RotationHarness;
let cli: ReturnType<typeof cliRunner>;
let retireDeps: RetireDeps;

beforeAll(async () => {
  h = await createRotationHarness({ clock });
  cli = cliRunner(h, { clock, identity: async () => 'alice@example.com' });
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

const rotate = async (secret: ManagedSecret) => {
  clock.advance(1000);
  const request: RotationRequest = {
    secret: secret.name,
    trigger: 'on-demand',
    requestKey: `on-demand:${randomUUID()}`,
    requestedAt: clock.now(),
  };
  clock.advance(1000);
  await expect(handleRotationRequest(request, h.deps)).resolves.toMatchObject({
    action: 'completed',
  });
};
const rollback = (secret: ManagedSecret, ...more: string[]) =>
  cli.run(['rollback', secret.name, '--reason', 'jobs fail with the new login', ...more]);
const payload = async (secret: ManagedSecret, version: number) =>
  JSON.parse(await h.store.accessVersion(secret.name, version)) as Record<string, unknown>;

describe.each([
  ['postgres', 'alternating-users'],
  ['mariadb', 'dual-password'],
] as const)('%s %s: within the grace period', (engine, strategy) => {
  it('makes current and latest the previous credential, which logs in; pauses; records; refreshes; retires the rolled-back one after grace', async () => {
    // Prepare: one rotation, so version 1 is previous and version 2 current.
    const secret = await h.createManagedSecret({ engine, strategy });
    await rotate(secret);
    const before = await h.snapshot(secret);
    expect(before.secret.aliases).toMatchObject({ current: 2, previous: 1 });
    const rolledBack = (await payload(secret, 2)) as { username: string; password: string };

    // Act
    const run = await rollback(secret, '--json', '--topic', TOPIC);

    // Assert: current == latest == a new version holding version 1's credential, which logs in.
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT.ok);
    const after = await h.snapshot(secret);
    const latest = after.versions[0]?.number;
    expect(latest).toBe(3);
    expect(after.secret.aliases[ALIASES.current]).toBe(latest);
    expect(after.secret.aliases[ALIASES.previous]).toBe(2);
    expect(await payload(secret, 3)).toEqual(await payload(secret, 1));
    expect(await h.versionLogsIn(secret, 3)).toBe(true);
    // The rolled-back credential still works (consumers that switched to it have their grace).
    expect(await h.versionLogsIn(secret, 2)).toBe(true);
    // Paused, recorded, announced.
    const pause = readPause(after.secret.annotations);
    expect(pause?.by).toBe('alice@example.com');
    expect(pause?.reason).toContain('jobs fail with the new login');
    const [entry] = after.history;
    expect(entry).toMatchObject({
      kind: 'rollback',
      outcome: 'succeeded',
      fromVersion: 2,
      toVersion: 3,
      requestedBy: 'alice@example.com',
      reason: 'jobs fail with the new login',
    });
    expect(after.state.retiring).toBeUndefined();
    const document = json(run);
    expect(document).toMatchObject({
      rolledBack: true,
      fromVersion: 2,
      restoredVersion: 1,
      toVersion: 3,
      announced: true,
      topic: TOPIC,
    });
    expect(String(document.completedAt)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const announced = cli.published.find(
      (p) => p.topic === TOPIC && JSON.parse(p.data).rotationId === document.id,
    );
    expect(JSON.parse(announced?.data ?? '{}')).toMatchObject({
      secret: secret.name,
      outcome: 'succeeded',
      previousVersion: '2',
      newVersion: '3',
    });
    expect(announced?.attributes.eventType).toBe('ROTATION_SUCCEEDED');
    const history = await cli.run(['history', secret.name]);
    expect(history.stdout).toMatch(/rollback-\w+\s+2 → 3\s+rolled back/);
    expect(history.stdout).toContain('    reason: jobs fail with the new login');

    // Retirement revokes the rolled-back credential after the grace period; current keeps working.
    clock.advance(HOUR + 1000);
    await retireSecret(await h.store.getSecret(secret.name), retireDeps);
    expect(await h.versionLogsIn(secret, 3)).toBe(true);
    const retired = await h.store.getSecret(secret.name);
    expect(retired.aliases[ALIASES.previous]).toBeUndefined();
    expect(retired.aliases[ALIASES.current]).toBe(3);
    expect(
      await canLogin(
        engine,
        secret.server,
        secret.fixture.database,
        rolledBack.username,
        rolledBack.password,
      ),
    ).toBe(false);
  });
});

it('is refused (exit 5) once the previous credential was retired; nothing changes', async () => {
  // Prepare
  const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'alternating-users' });
  await rotate(secret);
  clock.advance(HOUR + 1000);
  await retireSecret(await h.store.getSecret(secret.name), retireDeps);
  const before = await h.snapshot(secret);

  // Act
  const run = await rollback(secret, '--topic', TOPIC);

  // Assert
  expect(run.code).toBe(EXIT.refused);
  expect(run.stderr).toMatch(/^error: rollback refused \(retired\): .*previous.*retired/);
  const after = await h.snapshot(secret);
  expect(after.secret.aliases).toEqual(before.secret.aliases);
  expect(after.versions.map((v) => v.number)).toEqual(before.versions.map((v) => v.number));
  expect(readPause(after.secret.annotations)).toBeUndefined();
});

it('is refused (exit 5) for a secret no longer labelled rotator=managed; nothing changes', async () => {
  // Prepare
  const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'alternating-users' });
  await rotate(secret);
  await h.store.updateSecret(await h.store.getSecret(secret.name), { labels: {} });
  const before = await h.snapshot(secret);

  // Act
  const run = await rollback(secret, '--json', '--topic', TOPIC);

  // Assert
  expect(run.code).toBe(EXIT.refused);
  expect(json(run)).toMatchObject({ rolledBack: false, refused: 'unmanaged' });
  const after = await h.snapshot(secret);
  expect(after.secret.aliases).toEqual(before.secret.aliases);
  expect(after.versions.map((v) => v.number)).toEqual(before.versions.map((v) => v.number));
});

it('is refused (exit 5) for single-user, with the reason in JSON', async () => {
  // Prepare
  const secret = await h.createManagedSecret({ engine: 'mariadb', strategy: 'single-user' });
  await rotate(secret);

  // Act
  const run = await rollback(secret, '--json', '--topic', TOPIC);

  // Assert
  expect(run.code).toBe(EXIT.refused);
  expect(json(run)).toMatchObject({ rolledBack: false, refused: 'single-user' });
  const after = await h.snapshot(secret);
  expect(after.secret.aliases[ALIASES.current]).toBe(2);
  expect(after.versions).toHaveLength(2);
});

it('waits (exit 4) while a rotation holds the secret, and changes nothing', async () => {
  // Prepare: a rotation in flight (its lease live).
  const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'alternating-users' });
  await rotate(secret);
  const s = await h.store.getSecret(secret.name);
  const state = JSON.parse(s.annotations['rotator.state'] as string);
  state.status = 'rotating';
  state.rotation.leaseUntil = clock.now() + 60_000;
  await h.store.updateSecret(s, {
    annotations: { ...s.annotations, 'rotator.state': JSON.stringify(state) },
  });

  // Act
  const run = await rollback(secret, '--topic', TOPIC);

  // Assert
  expect(run.code).toBe(EXIT.transient);
  expect(run.stderr).toMatch(/rotation rot-\w+ is in flight/);
  expect((await h.store.getSecret(secret.name)).aliases[ALIASES.current]).toBe(2);
});

it('is refused (exit 5) when the server rejects the previous credential, and releases the secret', async () => {
  // Prepare: the previous login was locked by hand after the rotation.
  const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'alternating-users' });
  await rotate(secret);
  const admin = new Client({
    host: secret.server.host,
    port: secret.server.port,
    user: secret.server.adminUser,
    password: secret.server.adminPassword,
    database: 'postgres',
  });
  await admin.connect();
  try {
    await admin.query(`ALTER ROLE "${secret.fixture.username}" NOLOGIN`);
  } finally {
    await admin.end();
  }

  // Act
  const run = await rollback(secret, '--topic', TOPIC);

  // Assert
  expect(run.code).toBe(EXIT.refused);
  expect(run.stderr).toMatch(
    /rollback refused \(login-failed\): .*rejected the previous credential/,
  );
  const after = await h.snapshot(secret);
  expect(after.secret.aliases[ALIASES.current]).toBe(2);
  expect(after.versions).toHaveLength(2);
  expect(after.state.retiring).toBeUndefined();
});

it('holds the secret while it runs: a rotation requested meanwhile waits (retry later)', async () => {
  // Prepare: a rotation request arrives while the rollback logs in.
  const secret = await h.createManagedSecret({ engine: 'mariadb', strategy: 'dual-password' });
  await rotate(secret);
  let during: unknown;
  const engineFor: CliDeps['engineFor'] = (name) => {
    const engine = h.deps.engineFor(name);
    return {
      ...engine,
      tryLogin: async (endpoint, credential, query) => {
        during = await handleRotationRequest(
          {
            secret: secret.name,
            trigger: 'on-demand',
            requestKey: `on-demand:${randomUUID()}`,
            requestedAt: clock.now() + 1,
          },
          h.deps,
        ).catch((err: unknown) => err);
        return engine.tryLogin(endpoint, credential, query);
      },
    };
  };

  // Act
  const run = await cli.run(['rollback', secret.name, '--reason', 'r', '--topic', TOPIC], {
    engineFor,
  });

  // Assert
  expect(during).toBeInstanceOf(RetryLaterError);
  expect(run.code).toBe(EXIT.ok);
  expect((await h.store.getSecret(secret.name)).aliases[ALIASES.current]).toBe(3);
});

it('is refused (exit 5) when the rolled-back login was granted more than the previous one (privilege parity)', async () => {
  // Prepare: after the rotation, the new login (the clone) got a privilege the first one lacks.
  const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'alternating-users' });
  await rotate(secret);
  const admin = new Client({
    host: secret.server.host,
    port: secret.server.port,
    user: secret.server.adminUser,
    password: secret.server.adminPassword,
    database: 'postgres',
  });
  await admin.connect();
  try {
    await admin.query(
      `GRANT CREATE ON DATABASE "${secret.fixture.database}" TO "${secret.fixture.username}_clone"`,
    );
  } finally {
    await admin.end();
  }

  // Act
  const run = await rollback(secret, '--topic', TOPIC, '--json');

  // Assert
  expect(run.code).toBe(EXIT.refused);
  expect(json(run)).toMatchObject({ rolledBack: false, refused: 'privilege-gap' });
  expect((await h.store.getSecret(secret.name)).aliases[ALIASES.current]).toBe(2);
});

it('says so (exit 4) when the refresh could not be announced; the rollback itself stands', async () => {
  // Prepare
  const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'alternating-users' });
  await rotate(secret);

  // Act
  const run = await cli.run(['rollback', secret.name, '--reason', 'r', '--topic', TOPIC], {
    publish: async () => {
      throw new Error('topic not found');
    },
  });

  // Assert
  expect(run.code).toBe(EXIT.transient);
  expect(run.stderr).toMatch(
    /^error: rolled back .* could not be published on .*rotation-events: consumers were not refreshed/,
  );
  expect(run.stdout).toContain('consumers: NOT refreshed');
  expect((await h.store.getSecret(secret.name)).aliases[ALIASES.current]).toBe(3);
});
