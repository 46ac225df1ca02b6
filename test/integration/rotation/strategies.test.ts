import { canLogin } from '../../../devtools/db-fixtures';
import { CONFIG_KEYS } from '../../../shared/config/annotations';
import { RotationOutcomeSchema } from '../../../shared/events/rotation-outcome';
import type { RotationRequest } from '../../../shared/events/rotation-request';
import { handleRotationRequest } from '../../../shared/rotation/rotator';
import {
  createRotationHarness,
  type ManagedSecret,
  type RotationHarness,
} from '../../support/rotation-harness';

/**
 * Every strategy on every engine it supports, against the real servers: the new credential logs in,
 * `current` moved to it, and the old credential's fate is checked with real logins.
 */
let h: RotationHarness;
beforeAll(async () => {
  h = await createRotationHarness();
});
afterAll(async () => {
  h.assertNoPasswordInLogs();
  await h.stop();
});

let seq = 0;
const requestFor = (secret: ManagedSecret): RotationRequest => ({
  secret: secret.name,
  trigger: 'on-demand',
  requestKey: `on-demand:test-${++seq}`,
  requestedAt: Date.now(),
  requestedBy: 'strategies.test',
});

describe('the test servers', () => {
  it.each(['postgres', 'mariadb'] as const)('%s rejects a wrong password', async (engine) => {
    const s = await h.createManagedSecret({ engine, strategy: 'single-user' });
    await expect(
      canLogin(engine, s.server, s.fixture.database, s.fixture.username, 'wrong-password'),
    ).resolves.toBe(false);
    await expect(
      canLogin(engine, s.server, s.fixture.database, s.fixture.username, s.fixture.password),
    ).resolves.toBe(true);
  });
});

describe.each([
  { engine: 'postgres', strategy: 'single-user', self: false, oldWorks: false },
  { engine: 'postgres', strategy: 'single-user', self: true, oldWorks: false },
  { engine: 'postgres', strategy: 'alternating-users', self: false, oldWorks: true },
  { engine: 'mariadb', strategy: 'single-user', self: false, oldWorks: false },
  { engine: 'mariadb', strategy: 'alternating-users', self: false, oldWorks: true },
  { engine: 'mariadb', strategy: 'dual-password', self: false, oldWorks: true },
] as const)('$engine $strategy (self: $self)', ({ engine, strategy, self, oldWorks }) => {
  it('rotates: the new credential logs in, current moves, the old one keeps its documented fate', async () => {
    // Prepare
    const secret = await h.createManagedSecret({ engine, strategy, self });
    // Act
    const result = await handleRotationRequest(requestFor(secret), h.deps);
    // Assess
    expect(result).toMatchObject({ action: 'completed', version: 2 });
    const s = await h.snapshot(secret);
    expect(s.secret.aliases).toEqual({ current: 2, previous: 1 });
    expect(s.state.status).toBe('idle');
    expect(s.history).toHaveLength(1);
    expect(s.history[0]).toMatchObject({
      outcome: 'succeeded',
      fromVersion: 1,
      toVersion: 2,
      attempts: 1,
    });
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
    await expect(h.versionLogsIn(secret, 1)).resolves.toBe(oldWorks);

    const outcome = RotationOutcomeSchema.parse(
      h.published.find((p) => p.data.secret === secret.name)?.data,
    );
    expect(outcome).toMatchObject({
      outcome: 'succeeded',
      previousVersion: '1',
      newVersion: '2',
      strategy,
      engine,
    });
    const lines = h.sink
      .entries()
      .filter(
        (e) =>
          (e['logging.googleapis.com/labels'] as Record<string, string> | undefined)
            ?.rotation_id === outcome.rotationId,
      );
    expect(lines.filter((e) => e.event === 'rotation.step').map((e) => e.step)).toEqual([
      'create',
      'set',
      'test',
      'promote',
      'announce',
    ]);
    expect(lines.some((e) => e.event === 'rotation.completed')).toBe(true);
  });

  it('rotates twice: the credential before previous stops working, previous keeps working', async () => {
    // Prepare: a grace window that has passed by the second request (grace-window.test.ts covers
    // a request inside it).
    const secret = await h.createManagedSecret({
      engine,
      strategy,
      self,
      annotations: { [CONFIG_KEYS.gracePeriod]: '1s' },
    });
    await handleRotationRequest(requestFor(secret), h.deps);
    await new Promise((r) => setTimeout(r, 1100));
    // Act
    const second = await handleRotationRequest(requestFor(secret), h.deps);
    // Assess
    expect(second).toMatchObject({ action: 'completed', version: 3 });
    const s = await h.snapshot(secret);
    expect(s.secret.aliases).toEqual({ current: 3, previous: 2 });
    await expect(h.versionLogsIn(secret, 3)).resolves.toBe(true);
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(oldWorks);
    // Version 1 is the fixture's own login (with alternating users and dual passwords it was
    // retired, and its version disabled, before the second rotation started).
    const f = secret.fixture;
    await expect(canLogin(engine, secret.server, f.database, f.username, f.password)).resolves.toBe(
      false,
    );
  });
});

describe('alternating users', () => {
  it('alternates between the login and its clone, both members of the owner role (PostgreSQL)', async () => {
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'alternating-users',
      annotations: { [CONFIG_KEYS.gracePeriod]: '1s' },
    });
    await handleRotationRequest(requestFor(secret), h.deps);
    await new Promise((r) => setTimeout(r, 1100));
    await handleRotationRequest(requestFor(secret), h.deps);
    const payload = async (v: number) =>
      JSON.parse(await h.store.accessVersion(secret.name, v)) as {
        username: string;
        jdbcUrl: string;
      };
    expect((await payload(2)).username).toBe(`${secret.fixture.username}_clone`);
    expect((await payload(3)).username).toBe(secret.fixture.username);
    // Non-secret fields are carried over unchanged.
    expect((await payload(3)).jdbcUrl).toBe((await payload(2)).jdbcUrl);
  });
});

describe('regional secrets', () => {
  it('rotates a secret in projects/P/locations/L/secrets/S like a global one', async () => {
    const secret = await h.createManagedSecret({
      engine: 'mariadb',
      strategy: 'alternating-users',
      location: 'europe-west1',
    });
    expect(secret.name).toMatch(/^projects\/test-project\/locations\/europe-west1\/secrets\//);
    await expect(handleRotationRequest(requestFor(secret), h.deps)).resolves.toMatchObject({
      action: 'completed',
      version: 2,
    });
    expect((await h.snapshot(secret)).secret.aliases).toEqual({ current: 2, previous: 1 });
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
  });
});
