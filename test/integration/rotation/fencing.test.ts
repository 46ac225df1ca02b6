import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { canLogin } from '../../../devtools/db-fixtures';
import { holdLock } from '../../../devtools/lock-holder';
import type { Clock } from '../../../shared/clock';
import { CONFIG_KEYS } from '../../../shared/config/annotations';
import type { DatabaseEngine, EngineName } from '../../../shared/engines/engine';
import { RetryLaterError, TransientError } from '../../../shared/errors';
import type { RotationRequest } from '../../../shared/events/rotation-request';
import { type RetireDeps, retireSecret } from '../../../shared/retirement/retire-secret';
import type { RotatorDeps } from '../../../shared/rotation/context';
import { handleRotationRequest } from '../../../shared/rotation/rotator';
import {
  createRotationHarness,
  type ManagedSecret,
  type RotationHarness,
} from '../../support/rotation-harness';

/**
 * Invariant 9, fencing: a worker whose database call stalls (a lock held by another session) past
 * its lease never changes the database afterwards. The lock is held until well after the lease
 * ended; the database's answer to every stored credential must not change once the lease is over
 * (before the fix, the stalled ALTER ROLE / ALTER USER landed the moment the lock was released),
 * and the next delivery completes with `current` logging in.
 */
const LEASE_MS = 4_000;
const HOUR = 3_600_000;
let h: RotationHarness;

beforeAll(async () => {
  h = await createRotationHarness({ leaseMs: LEASE_MS });
});
afterAll(async () => {
  h.assertNoPasswordInLogs();
  await h.stop();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const request = (secret: ManagedSecret): RotationRequest => ({
  secret: secret.name,
  trigger: 'on-demand',
  requestKey: `on-demand:${randomUUID()}`,
  requestedAt: Date.now(),
});

/** Which of the given credentials the database accepts right now. */
async function answers(secret: ManagedSecret, creds: { username: string; password: string }[]) {
  const out: boolean[] = [];
  for (const c of creds) {
    out.push(
      await canLogin(
        secret.fixture.engine,
        secret.server,
        secret.fixture.database,
        c.username,
        c.password,
      ),
    );
  }
  return out;
}

const allCredentials = (secret: ManagedSecret) => [
  { username: secret.fixture.username, password: secret.fixture.password },
  ...h.addedCredentials(secret),
];

/**
 * Run `worker` while `lock` is taken at the moment `lockAt` resolves; hold the lock until the
 * lease read by `leaseUntil` is over, then release it. Returns what the database answered to
 * every credential at the lease end and after the release, and how the worker ended.
 */
async function stallPastLease(opts: {
  secret: ManagedSecret;
  worker: () => Promise<unknown>;
  lockTaken: Promise<() => Promise<void>>;
  leaseUntil: () => Promise<number>;
  /** Run while the worker is stalled. */
  during?: () => Promise<void>;
}) {
  const done = opts.worker().then(
    () => 'resolved',
    (err: unknown) => (err instanceof TransientError ? 'transient' : `other: ${String(err)}`),
  );
  const release = await opts.lockTaken;
  await sleep(300);
  await opts.during?.();
  const leaseUntil = await opts.leaseUntil();
  await sleep(Math.max(0, leaseUntil - Date.now()) + 300);
  const atLeaseEnd = await answers(opts.secret, allCredentials(opts.secret));
  await release();
  const outcome = await done;
  await sleep(500);
  const afterRelease = await answers(opts.secret, allCredentials(opts.secret));
  return { atLeaseEnd, afterRelease, outcome };
}

async function rotationLease(secret: ManagedSecret): Promise<number> {
  return (await h.snapshot(secret)).state.rotation?.leaseUntil ?? 0;
}

/** Pub/Sub redelivery until the rotation is done (bounded). */
async function deliverUntilDone(req: RotationRequest, deps: RotatorDeps) {
  for (let i = 0; i < 10; i++) {
    try {
      return await handleRotationRequest(req, deps);
    } catch (err) {
      if (!(err instanceof TransientError)) throw err;
      await sleep(200);
    }
  }
  throw new Error('not done after 10 deliveries');
}

describe.each(['postgres', 'mariadb'] as const)('%s: a worker stalled past its lease', (engine) => {
  it('in set: its password change is abandoned by the server, never applied late', async () => {
    const secret = await h.createManagedSecret({ engine, strategy: 'single-user' });
    const req = request(secret);
    const r = await stallPastLease({
      secret,
      lockTaken: holdLock(engine, secret.server, secret.fixture.username),
      worker: () => handleRotationRequest(req, h.deps),
      leaseUntil: () => rotationLease(secret),
    });
    // The database did not change after the lease ended: the call was given up (a transient
    // failure, redelivered), not left waiting for the lock.
    expect({ outcome: r.outcome, db: r.afterRelease }).toEqual({
      outcome: 'transient',
      db: r.atLeaseEnd,
    });
    // The redelivery completes: current logs in.
    await expect(deliverUntilDone(req, h.deps)).resolves.toMatchObject({ action: 'completed' });
    const s = await h.snapshot(secret);
    await expect(h.versionLogsIn(secret, s.secret.aliases.current as number)).resolves.toBe(true);
  }, 60_000);

  it('in the rollback after a failed test: its rollback is never applied late', async () => {
    const secret = await h.createManagedSecret({
      engine,
      strategy: 'single-user',
      annotations: { [CONFIG_KEYS.testQuery]: 'SELECT * FROM no_such_table_here' },
    });
    // The lock is taken when the rollback opens its session (the second session of the rotation).
    let sessions = 0;
    let lockTaken!: (release: Promise<() => Promise<void>>) => void;
    const taken = new Promise<() => Promise<void>>((resolve) => {
      lockTaken = (p) => void p.then(resolve);
    });
    const wrap = (e: DatabaseEngine): DatabaseEngine => ({
      ...e,
      withSession: async (...args) => {
        if (++sessions === 2) {
          const p = holdLock(engine, secret.server, secret.fixture.username);
          lockTaken(p);
          await p;
        }
        return e.withSession(...args);
      },
    });
    const deps: RotatorDeps = {
      ...h.deps,
      engineFor: (n: EngineName) => wrap(h.deps.engineFor(n)),
    };
    const req = request(secret);
    const r = await stallPastLease({
      secret,
      lockTaken: taken,
      worker: () => handleRotationRequest(req, deps),
      leaseUntil: () => rotationLease(secret),
    });
    expect(r.afterRelease).toEqual(r.atLeaseEnd);
    // Whatever the stalled worker left, a later request ends with `current` logging in, and the
    // database never holds a credential that no version stores.
    const later = { ...request(secret), requestedAt: Date.now() + 1 };
    await deliverUntilDone(later, h.deps);
    const s = await h.snapshot(secret);
    await expect(h.versionLogsIn(secret, s.secret.aliases.current as number)).resolves.toBe(true);
  }, 60_000);

  it('in retirement: its revoke is never applied late', async () => {
    const secret = await h.createManagedSecret({ engine, strategy: 'alternating-users' });
    await handleRotationRequest(request(secret), h.deps);
    // Two hours on, the grace window is over (the clock of the retire tick only).
    const later: Clock = { now: () => Date.now() + 2 * HOUR, sleep };
    const deps: RetireDeps = {
      store: h.store,
      engineFor: h.deps.engineFor,
      clock: later,
      logger: h.deps.logger,
      newHolderId: () => randomUUID(),
      leaseMs: LEASE_MS,
      overdueMarginMs: HOUR,
    };
    const r = await stallPastLease({
      secret,
      lockTaken: holdLock(engine, secret.server, secret.fixture.username),
      worker: async () => retireSecret(await h.store.getSecret(secret.name), deps),
      leaseUntil: async () =>
        ((await h.snapshot(secret)).state.retiring?.leaseUntil ?? 0) - 2 * HOUR,
      // A rotation request meanwhile is told what holds the secret, and until when.
      during: async () => {
        const busy = handleRotationRequest(
          { ...request(secret), requestedAt: later.now() },
          {
            ...h.deps,
            clock: later,
          },
        );
        await expect(busy).rejects.toBeInstanceOf(RetryLaterError);
        await expect(busy).rejects.toThrow(/retirement of version 1 holds the secret until/);
      },
    });
    expect({ outcome: r.outcome, db: r.afterRelease }).toEqual({
      outcome: 'transient',
      db: r.atLeaseEnd,
    });
    // The failed retirement gave its lease up (a rotation is not refused), and the next tick
    // retires `previous` for good.
    const s = await h.snapshot(secret);
    expect(s.state.retiring).toBeUndefined();
    await retireSecret(await h.store.getSecret(secret.name), deps);
    await expect(answers(secret, allCredentials(secret))).resolves.toEqual([false, true]);
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
  }, 60_000);
});

describe('postgres: an emergency revoke stalled past its lease', () => {
  it('ends no session once the lease is over; the redelivery ends them', async () => {
    // Prepare: rotated once (current version 2); a session of version 2's login is open (the
    // leak's), and the worker's end-of-sessions call stalls past the `retiring` lease.
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'alternating-users',
    });
    await handleRotationRequest(request(secret), h.deps);
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
    const stalling = (e: DatabaseEngine): DatabaseEngine => ({
      ...e,
      withSession: (endpoint, credential, fn, options) =>
        e.withSession(
          endpoint,
          credential,
          (s) =>
            fn({
              ...s,
              endSessions: async (login) => {
                await sleep(LEASE_MS + 500);
                return s.endSessions(login);
              },
            }),
          options,
        ),
    });
    const emergency: RotationRequest = {
      ...request(secret),
      emergency: true,
      reason: 'leaked in a CI log',
    };

    // Act
    const stalled = handleRotationRequest(emergency, {
      ...h.deps,
      engineFor: (n: EngineName) => stalling(h.deps.engineFor(n)),
    });

    // Assess: the late call was given up (transient, redelivered) and the session lives on.
    await expect(stalled).rejects.toBeInstanceOf(TransientError);
    await expect(attacker.query('SELECT 1')).resolves.toBeDefined();
    // The redelivery finishes the revoke: the leaked login's session is gone.
    await expect(deliverUntilDone(emergency, h.deps)).resolves.toMatchObject({ action: 'stale' });
    await expect(attacker.query('SELECT 1')).rejects.toThrow();
    const s = await h.snapshot(secret);
    expect(s.secret.aliases).toEqual({ current: 3 });
    await attacker.end().catch(() => undefined);
  }, 60_000);
});
