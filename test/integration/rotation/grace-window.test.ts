import { randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import { Client } from 'pg';
import { canLogin } from '../../../devtools/db-fixtures';
import { pubsubCloudEvent, secretNotification } from '../../../devtools/events';
import { makeRotateSecret } from '../../../functions/rotate-secret';
import { engineFor } from '../../../shared/engines/registry';
import { retireSecret } from '../../../shared/retirement/retire-secret';
import { handleRotationRequest } from '../../../shared/rotation/rotator';
import {
  createRotationHarness,
  type ManagedSecret,
  type RotationHarness,
} from '../../support/rotation-harness';

/**
 * Invariant 4, the grace window is a promise: a rotation requested while `previous` is still
 * promised to consumers waits (acknowledged, INFO) and runs once retirement allows it; a leak
 * (emergency) breaks the promise on purpose: `previous` dies at once and its sessions end.
 */
let h: RotationHarness;
beforeAll(async () => {
  h = await createRotationHarness();
});
afterAll(async () => {
  h.assertNoPasswordInLogs();
  await h.stop();
});

const HOUR = 3_600_000;
const scheduled = (secret: ManagedSecret) => {
  const at = new Date().toISOString().replace('Z', '+00:00');
  return pubsubCloudEvent(secretNotification('SECRET_ROTATE', secret.name, { timestamp: at }));
};
const onDemand = (secret: ManagedSecret, emergency = false) => ({
  secret: secret.name,
  trigger: 'on-demand' as const,
  requestKey: `on-demand:${randomUUID()}`,
  requestedAt: Date.now(),
  ...(emergency ? { emergency: true, reason: 'leaked in a CI log' } : {}),
});
/** Log entries carry the secret among their labels. */
const about = (e: Record<string, unknown>, secret: ManagedSecret) =>
  JSON.stringify(e).includes(secret.name);
const events = (name: string) => h.sink.entries().filter((e) => e.event === name);

describe.each([
  ['postgres', 'alternating-users'],
  ['mariadb', 'dual-password'],
] as const)('%s %s', (engine, strategy) => {
  it('a scheduled rotation inside the grace window waits, previous keeps working, and it runs after retirement', async () => {
    // Prepare: one rotation done; previous (version 1) is in its one-hour grace window.
    const secret = await h.createManagedSecret({ engine, strategy });
    await handleRotationRequest(onDemand(secret), h.deps);
    const rotateSecret = makeRotateSecret(() => h.deps);
    const errorsBefore = h.sink.entries().filter((e) => e.severity === 'ERROR').length;

    // Act: SECRET_ROTATE arrives inside the window.
    await rotateSecret(scheduled(secret));

    // Assess: acknowledged (no throw), logged at INFO with when it will be possible, nothing
    // changed, and previous still logs in.
    const deferred = events('rotation.deferred').filter((e) => about(e, secret));
    expect(deferred).toHaveLength(1);
    expect(deferred[0]?.severity).toBe('INFO');
    expect(Date.parse(String(deferred[0]?.possibleAt))).toBeGreaterThan(Date.now() + HOUR / 2);
    let s = await h.snapshot(secret);
    expect(s.secret.aliases).toEqual({ current: 2, previous: 1 });
    expect(s.state.deferred?.trigger).toBe('schedule');
    await expect(h.versionLogsIn(secret, 1)).resolves.toBe(true);
    expect(h.sink.entries().filter((e) => e.severity === 'ERROR')).toHaveLength(errorsBefore);

    // Act: the grace window passes; the retire tick retires previous, and Secret Manager's
    // SECRET_VERSION_DISABLE notification reaches rotateSecret.
    const later = { now: () => Date.now() + 2 * HOUR, sleep: async () => undefined };
    await retireSecret(await h.store.getSecret(secret.name), {
      store: h.store,
      engineFor,
      clock: later,
      logger: h.deps.logger,
      newHolderId: () => randomUUID(),
      leaseMs: 60_000,
      overdueMarginMs: HOUR,
    });
    await rotateSecret(
      pubsubCloudEvent(
        secretNotification('SECRET_VERSION_DISABLE', secret.name, { versionId: '1' }),
      ),
    );

    // Assess: the scheduled request was carried out, not lost.
    s = await h.snapshot(secret);
    expect(s.secret.aliases).toEqual({ current: 3, previous: 2 });
    expect(s.state.deferred).toBeUndefined();
    expect(s.history[0]).toMatchObject({ trigger: 'schedule', outcome: 'succeeded', toVersion: 3 });
    await expect(h.versionLogsIn(secret, 3)).resolves.toBe(true);
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
  });
});

describe('emergency rotation', () => {
  it('postgres alternating-users: rotates inside the grace window, previous dies at once, its sessions end', async () => {
    // Prepare: rotated once; the leaked credential is current (version 2), and a session of it
    // is open (the attacker's).
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'alternating-users',
    });
    await handleRotationRequest(onDemand(secret), h.deps);
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

    // Act
    const result = await handleRotationRequest(onDemand(secret, true), h.deps);

    // Assess: rotated now (version 3), the leaked login no longer logs in, its session is gone.
    expect(result).toMatchObject({ action: 'completed', version: 3 });
    const s = await h.snapshot(secret);
    expect(s.secret.aliases).toEqual({ current: 3 });
    await expect(h.versionLogsIn(secret, 3)).resolves.toBe(true);
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
    const revoked = events('rotation.emergency-revoked').find((e) => about(e, secret));
    expect(revoked).toMatchObject({ version: 2, login: leaked.username, sessionsEnded: 1 });
    await attacker.end().catch(() => undefined);
  });

  it('a worker that dies between the rotation and the revoke: the redelivery finishes the revoke', async () => {
    // Prepare
    const secret = await h.createManagedSecret({
      engine: 'mariadb',
      strategy: 'alternating-users',
    });
    await handleRotationRequest(onDemand(secret), h.deps);
    const request = onDemand(secret, true);
    const dying = {
      ...h.deps,
      failpoint: (point: string) => {
        if (point === 'step:announce') throw new Error('killed (simulated)');
      },
    };
    await expect(handleRotationRequest(request, dying)).rejects.toThrow();
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
    // Act: Pub/Sub redelivers the same request.
    await handleRotationRequest(request, h.deps);
    // Assess: the leaked credential (version 2) is dead, version 3 is current.
    const [leaked] = h.addedCredentials(secret);
    if (!leaked) throw new Error('no credential added');
    await expect(
      canLogin('mariadb', secret.server, secret.fixture.database, leaked.username, leaked.password),
    ).resolves.toBe(false);
    const s = await h.snapshot(secret);
    expect(s.secret.aliases).toEqual({ current: 3 });
    await expect(h.versionLogsIn(secret, 3)).resolves.toBe(true);
  });

  it('mariadb single-user: the old password dies at set, and its sessions are ended', async () => {
    const secret = await h.createManagedSecret({ engine: 'mariadb', strategy: 'single-user' });
    const f = secret.fixture;
    const attacker = await mysql.createConnection({
      host: secret.server.host,
      port: secret.server.port,
      user: f.username,
      password: f.password,
      database: f.database,
    });
    attacker.on('error', () => undefined);

    const result = await handleRotationRequest(onDemand(secret, true), h.deps);

    expect(result).toMatchObject({ action: 'completed', version: 2 });
    await expect(
      canLogin('mariadb', secret.server, f.database, f.username, f.password),
    ).resolves.toBe(false);
    await expect(attacker.query('SELECT 1')).rejects.toThrow();
    const revoked = events('rotation.emergency-revoked').find((e) => about(e, secret));
    expect(revoked).toMatchObject({ version: 1, sessionsEnded: 1 });
    await attacker.end().catch(() => undefined);
  });
});
