import { randomBytes } from 'node:crypto';
import { adminPayload, canLogin, createLogin, loginPayload } from '../../../devtools/db-fixtures';
import { type PostgresServer, startPostgres } from '../../../devtools/postgres-server';
import { CONFIG_KEYS } from '../../../shared/config/annotations';
import type { DatabaseEngine, EngineName } from '../../../shared/engines/engine';
import { TransientError } from '../../../shared/errors';
import { RotationOutcomeSchema } from '../../../shared/events/rotation-outcome';
import type { RotationRequest } from '../../../shared/events/rotation-request';
import type { RotatorDeps } from '../../../shared/rotation/context';
import { handleRotationRequest, type RotationResult } from '../../../shared/rotation/rotator';
import { withErrorBoundary } from '../../../shared/runtime/cloud-event-handler';
import { faultAtCall } from '../../support/fault-store';
import {
  createRotationHarness,
  type ManagedSecret,
  PROJECT,
  type RotationHarness,
  servedLogins,
} from '../../support/rotation-harness';

/**
 * The invariants under failure: a credential the database accepts is always in some version,
 * `current` only moves to a verified credential, one rotation per request, nothing stuck.
 */
let h: RotationHarness;
beforeAll(async () => {
  h = await createRotationHarness({ leaseMs: 60_000 });
});
afterAll(async () => {
  h.assertNoPasswordInLogs();
  await h.stop();
});

let seq = 0;
const requestFor = (secret: ManagedSecret, at = Date.now()): RotationRequest => ({
  secret: secret.name,
  trigger: 'on-demand',
  requestKey: `on-demand:failures-${++seq}`,
  requestedAt: at,
});

/** Pub/Sub redelivery: call again on transient failures, a bounded number of times. */
async function deliverUntilDone(request: RotationRequest, deps: RotatorDeps, max = 8) {
  const errors: string[] = [];
  for (let i = 0; i < max; i++) {
    try {
      return { result: await handleRotationRequest(request, deps), errors };
    } catch (err) {
      if (!(err instanceof TransientError)) throw err;
      errors.push(err.message);
    }
  }
  throw new Error(`not done after ${max} deliveries: ${errors.join(' | ')}`);
}

/** Invariant 1: some version holds a credential the database accepts right now. */
async function someVersionLogsIn(secret: ManagedSecret): Promise<boolean> {
  for (const v of await h.store.listVersions(secret.name)) {
    if (v.state === 'ENABLED' && (await h.versionLogsIn(secret, v.number))) return true;
  }
  return false;
}

describe('a failing test step', () => {
  it.each([
    ['postgres', 'single-user'],
    ['postgres', 'alternating-users'],
    ['mariadb', 'dual-password'],
  ] as const)(
    '%s %s: rolls the database back; latest and current stay the working base, the staged copy goes to retirement',
    async (engine, strategy) => {
      // Prepare: a test query that cannot succeed.
      const secret = await h.createManagedSecret({
        engine,
        strategy,
        annotations: { [CONFIG_KEYS.testQuery]: 'SELECT * FROM no_such_table_here' },
      });
      // Act
      const result = await handleRotationRequest(requestFor(secret), h.deps);
      // Assess
      expect(result).toMatchObject({ action: 'failed' });
      const s = await h.snapshot(secret);
      // The unverified credential never became a version of the managed secret.
      expect(s.secret.aliases).toEqual({ current: 1 });
      expect(s.versions.map((v) => [v.number, v.state])).toEqual([[1, 'ENABLED']]);
      expect(s.state.status).toBe('failed');
      expect(s.history[0]).toMatchObject({ outcome: 'failed', fromVersion: 1 });
      await expect(h.versionLogsIn(secret, 1)).resolves.toBe(true);
      // Its staged copy is listed for retirement to destroy; it is still the only one.
      const staged = await h.stagedFor(secret);
      expect(staged).toHaveLength(1);
      expect(s.state.stagedToDestroy).toEqual([
        expect.objectContaining({ secret: h.stagingSecret, version: staged[0]?.version }),
      ]);
      // The pending credential was rolled back: it no longer logs in.
      const [pending] = h.addedCredentials(secret);
      if (!pending) throw new Error('no pending credential was added');
      await expect(
        canLogin(
          engine,
          secret.server,
          secret.fixture.database,
          pending.username,
          pending.password,
        ),
      ).resolves.toBe(false);
      const outcome = RotationOutcomeSchema.parse(
        h.published.find((p) => p.data.rotationId === (result as { rotationId: string }).rotationId)
          ?.data,
      );
      expect(outcome).toMatchObject({ outcome: 'failed', previousVersion: '1' });
      expect(outcome.newVersion).toBeUndefined();
      expect(
        h.sink.entries().some((e) => e.event === 'rotation.failed' && e.severity === 'ERROR'),
      ).toBe(true);
    },
  );

  it('does not leave the secret stuck: the next request starts clean and succeeds', async () => {
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'single-user',
      annotations: { [CONFIG_KEYS.testQuery]: 'SELECT * FROM no_such_table_here' },
    });
    await handleRotationRequest(requestFor(secret), h.deps);
    // The operator fixes the query.
    const snap = await h.store.getSecret(secret.name);
    await h.store.updateSecret(snap, {
      annotations: { ...snap.annotations, [CONFIG_KEYS.testQuery]: 'SELECT 1' },
    });
    const result = await handleRotationRequest(requestFor(secret, Date.now() + 1), h.deps);
    expect(result).toMatchObject({ action: 'completed', version: 2 });
    const s = await h.snapshot(secret);
    expect(s.secret.aliases).toEqual({ current: 2, previous: 1 });
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
  });
});

describe('duplicate and concurrent deliveries', () => {
  it('5 concurrent deliveries of one request give exactly one new version', async () => {
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'alternating-users',
    });
    const request = requestFor(secret);
    // Act
    const settled = await Promise.allSettled(
      Array.from({ length: 5 }, () => handleRotationRequest(request, h.deps)),
    );
    // Assess: one completes; the others were told to come back later, or found it done.
    const completed = settled.filter(
      (r) => r.status === 'fulfilled' && r.value.action === 'completed',
    );
    expect(completed).toHaveLength(1);
    for (const r of settled) {
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(TransientError);
      else expect(['completed', 'stale']).toContain(r.value.action);
    }
    // Redelivery of all five after completion: nothing more happens.
    const again = await Promise.all(
      Array.from({ length: 5 }, () => handleRotationRequest(request, h.deps)),
    );
    expect(again.map((r) => r.action)).toEqual(['stale', 'stale', 'stale', 'stale', 'stale']);
    const s = await h.snapshot(secret);
    expect(s.versions.map((v) => v.number)).toEqual([2, 1]);
    expect(s.secret.aliases).toEqual({ current: 2, previous: 1 });
    expect(h.published.filter((p) => p.data.secret === secret.name)).toHaveLength(1);
  });

  it('a stale event after a completed rotation does nothing', async () => {
    const secret = await h.createManagedSecret({ engine: 'mariadb', strategy: 'single-user' });
    const early = Date.now() - 60_000;
    await handleRotationRequest(requestFor(secret), h.deps);
    const result = await handleRotationRequest(requestFor(secret, early), h.deps);
    expect(result).toEqual({ action: 'stale' });
    expect((await h.store.listVersions(secret.name)).map((v) => v.number)).toEqual([2, 1]);
  });
});

describe('Secret Manager UNAVAILABLE on each call in turn', () => {
  let callsInOneRotation: string[] = [];

  beforeAll(async () => {
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'alternating-users',
    });
    const probe = faultAtCall(h.store, h.emulator.faults, 0);
    await handleRotationRequest(requestFor(secret), { ...h.deps, store: probe.store });
    callsInOneRotation = probe.calls();
  });

  it('makes a known number of calls in a clean rotation', () => {
    expect(callsInOneRotation.length).toBeGreaterThan(8);
    expect(callsInOneRotation).toContain('addSecretVersion');
    expect(callsInOneRotation).toContain('updateSecret');
  });

  for (const afterCommit of [false, true]) {
    it(`completes with one new version when call N fails ${afterCommit ? 'after committing' : 'before committing'}, for every N`, async () => {
      for (let at = 1; at <= callsInOneRotation.length; at++) {
        const secret = await h.createManagedSecret({
          engine: 'postgres',
          strategy: 'alternating-users',
        });
        const faulty = faultAtCall(h.store, h.emulator.faults, at, afterCommit);
        const deps = { ...h.deps, store: faulty.store };
        const { result } = await deliverUntilDone(requestFor(secret), deps);
        const where = `call ${at} (${faulty.calls()[at - 1]})`;
        expect({ where, action: result.action }).toEqual({ where, action: 'completed' });
        const s = await h.snapshot(secret);
        expect({ where, aliases: s.secret.aliases }).toEqual({
          where,
          aliases: { current: 2, previous: 1 },
        });
        expect({ where, versions: s.versions.map((v) => v.number) }).toEqual({
          where,
          versions: [2, 1],
        });
        await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
        expect(h.emulator.faults.remaining).toBe(0);
      }
    });
  }
});

describe('a database that goes away', () => {
  let server: PostgresServer;
  let adminSecret: string;

  beforeAll(async () => {
    server = await startPostgres();
    adminSecret = `projects/${PROJECT}/secrets/admin-own-pg-${randomBytes(3).toString('hex')}`;
    await h.client.createSecret({
      parent: `projects/${PROJECT}`,
      secretId: adminSecret.split('/').pop() as string,
      secret: { replication: { automatic: {} } },
    });
    await h.addVersion(adminSecret, adminPayload('postgres', server));
  });
  afterAll(async () => {
    await server.stop();
  });

  async function secretOnOwnServer(
    strategy: 'single-user' | 'alternating-users',
  ): Promise<ManagedSecret> {
    const id = `g${randomBytes(4).toString('hex')}`;
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
          [CONFIG_KEYS.strategy]: strategy,
          [CONFIG_KEYS.adminSecret]: adminSecret,
          [CONFIG_KEYS.maxAttempts]: '2',
        },
      },
    });
    await h.addVersion(name, loginPayload(fixture));
    await h.serve(adminSecret, name, servedLogins(strategy, fixture.username));
    return { name, fixture, server };
  }

  /** Kill the server right before the engine verb `verb` is called for the `nth` time. */
  function killBefore(verb: 'withSession' | 'tryLogin', nth: number) {
    let count = 0;
    return (engine: DatabaseEngine): DatabaseEngine => ({
      ...engine,
      tryLogin: async (...args) => {
        if (verb === 'tryLogin' && ++count === nth) await server.kill();
        return engine.tryLogin(...args);
      },
      withSession: async (...args) => {
        if (verb === 'withSession' && ++count === nth) await server.kill();
        return engine.withSession(...args);
      },
    });
  }

  it('mid-rotation (before set): redelivery after it is back completes, nothing lost', async () => {
    const secret = await secretOnOwnServer('alternating-users');
    const kill = killBefore('withSession', 1);
    const deps = { ...h.deps, engineFor: (n: EngineName) => kill(h.deps.engineFor(n)) };
    const request = requestFor(secret);
    await expect(handleRotationRequest(request, deps)).rejects.toBeInstanceOf(TransientError);
    const during = await h.snapshot(secret);
    // The pending credential waits in the staging secret; the managed secret holds only what works.
    expect(during.state).toMatchObject({
      status: 'rotating',
      rotation: { step: 'set', staged: { secret: h.stagingSecret } },
    });
    expect(during.versions.map((v) => v.number)).toEqual([1]);
    // The lease was given up (expired at once), keeping when: the overdue check's sign of life.
    expect(during.state.rotation?.leaseUntil).toBeLessThanOrEqual(Date.now());
    await server.start();
    expect(await someVersionLogsIn(secret)).toBe(true);
    const result = await handleRotationRequest(request, deps);
    expect(result).toMatchObject({ action: 'completed', version: 2 });
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
    expect((await h.snapshot(secret)).history[0]).toMatchObject({ attempts: 2 });
  });

  it('one failed attempt is one log line, the cause named once (through the function boundary)', async () => {
    // Prepare: the database goes away before the rotation's first session.
    const secret = await secretOnOwnServer('alternating-users');
    const kill = killBefore('withSession', 1);
    const deps = { ...h.deps, engineFor: (n: EngineName) => kill(h.deps.engineFor(n)) };
    const request = requestFor(secret);
    const rotateSecret = withErrorBoundary(
      'rotateSecret',
      () => deps.logger,
      async () => {
        await handleRotationRequest(request, deps);
      },
    );
    const from = h.sink.entries().length;
    // Act: one delivery, as functions-framework makes it.
    const thrown = await rotateSecret({ id: 'outage-1' }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    // Assess: redelivery requested with one short line for functions-framework's stderr...
    expect(thrown?.message).toMatch(/^redelivery requested: /);
    expect(thrown?.stack).toBe(thrown?.message);
    // ...and exactly one WARNING-or-worse line: the rotator's, naming the cause once.
    const loud = h.sink
      .entries()
      .slice(from)
      .filter((e) => e.severity !== 'DEBUG' && e.severity !== 'INFO');
    expect(loud).toEqual([
      expect.objectContaining({ severity: 'WARNING', event: 'rotation.retry', step: 'set' }),
    ]);
    expect(JSON.stringify(loud[0]).match(/ECONNREFUSED/g)).toHaveLength(1);
    // Once the database is back, the redelivery completes.
    await server.start();
    await expect(rotateSecret({ id: 'outage-1' })).resolves.toBeUndefined();
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
  });

  it('after set, single-user (only the new password works): resumes at test, nothing lost', async () => {
    const secret = await secretOnOwnServer('single-user');
    // tryLogin calls: 1 = set's probe, 2 = test.
    const kill = killBefore('tryLogin', 2);
    const deps = { ...h.deps, engineFor: (n: EngineName) => kill(h.deps.engineFor(n)) };
    const request = requestFor(secret);
    await expect(handleRotationRequest(request, deps)).rejects.toBeInstanceOf(TransientError);
    await server.start();
    // The database now only accepts the pending credential, which is stored (staged).
    await expect(h.versionLogsIn(secret, 1)).resolves.toBe(false);
    expect(await h.stagedFor(secret)).toHaveLength(1);
    const [pending] = h.addedCredentials(secret);
    await expect(
      canLogin(
        'postgres',
        server,
        secret.fixture.database,
        pending?.username ?? '',
        pending?.password ?? '',
      ),
    ).resolves.toBe(true);
    await expect(handleRotationRequest(request, deps)).resolves.toMatchObject({
      action: 'completed',
      version: 2,
    });
  });

  it('for good: attempts are bounded, the rotation fails unresolved, and a later request resumes it', async () => {
    const secret = await secretOnOwnServer('single-user');
    const request = requestFor(secret);
    const kill = killBefore('tryLogin', 2);
    const deps = { ...h.deps, engineFor: (n: EngineName) => kill(h.deps.engineFor(n)) };
    await expect(handleRotationRequest(request, deps)).rejects.toBeInstanceOf(TransientError);
    // Still down: the second attempt fails too, the third delivery gives up.
    await expect(handleRotationRequest(request, h.deps)).rejects.toBeInstanceOf(TransientError);
    const gaveUp: RotationResult = await handleRotationRequest(request, h.deps);
    expect(gaveUp).toMatchObject({ action: 'failed' });
    const failed = await h.snapshot(secret);
    // The staged credential (the only copy of what the database may accept) is kept and named;
    // the managed secret never held it.
    expect(failed.state).toMatchObject({
      status: 'failed',
      rotation: { unresolved: true, staged: { secret: h.stagingSecret } },
    });
    expect(failed.state.stagedToDestroy).toBeUndefined();
    expect(failed.secret.aliases.pending).toBeUndefined();
    expect(failed.versions.map((v) => v.number)).toEqual([1]);
    // One story: one ERROR for the outcome, naming the cause once.
    const errors = h.sink
      .entries()
      .filter((e) => JSON.stringify(e).includes(secret.name) && e.severity === 'ERROR');
    expect(errors.map((e) => e.event)).toEqual(['rotation.unresolved']);
    expect(String(errors[0]?.error).match(/connect failed/g)).toHaveLength(1);
    // Redeliveries of the same request are stale now: nothing retries forever.
    await expect(handleRotationRequest(request, h.deps)).resolves.toEqual({ action: 'stale' });

    await server.start();
    const later = await handleRotationRequest(requestFor(secret, Date.now() + 1), h.deps);
    expect(later).toMatchObject({ action: 'completed', version: 2 });
    const s = await h.snapshot(secret);
    expect(s.secret.aliases).toEqual({ current: 2, previous: 1 });
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
  });
});

describe('a newer request meets an abandoned rotation', () => {
  it('finishes the abandoned rotation, then rotates for the newer request', async () => {
    // Prepare: a rotation left mid-way (its announce failed and its lease was released).
    // Single-user: with alternating users the newer rotation would wait for the grace window of
    // previous (grace-window.test.ts).
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'single-user',
    });
    const failing: RotatorDeps = {
      ...h.deps,
      publish: async () => {
        throw new TransientError('pubsub down');
      },
    };
    await expect(handleRotationRequest(requestFor(secret), failing)).rejects.toBeInstanceOf(
      TransientError,
    );
    // Act: an on-demand request made after that rotation started.
    const result = await handleRotationRequest(requestFor(secret, Date.now() + 5), h.deps);
    // Assess: both rotations are complete; the newer one produced version 3.
    expect(result).toMatchObject({ action: 'completed', version: 3 });
    const s = await h.snapshot(secret);
    expect(s.secret.aliases).toEqual({ current: 3, previous: 2 });
    expect(s.history.map((e) => [e.fromVersion, e.toVersion])).toEqual([
      [2, 3],
      [1, 2],
    ]);
    await expect(h.versionLogsIn(secret, 3)).resolves.toBe(true);
  });
});

describe('announce', () => {
  it('a failed publish is retried on redelivery; the outcome is published once', async () => {
    let failPublish = true;
    const secret = await h.createManagedSecret({
      engine: 'mariadb',
      strategy: 'alternating-users',
    });
    const deps: RotatorDeps = {
      ...h.deps,
      publish: async (...args) => {
        if (failPublish) throw new TransientError('pubsub down');
        return h.deps.publish(...args);
      },
    };
    const request = requestFor(secret);
    await expect(handleRotationRequest(request, deps)).rejects.toBeInstanceOf(TransientError);
    const mid = await h.snapshot(secret);
    // Already promoted: consumers reading `current` have the new credential.
    expect(mid.secret.aliases).toEqual({ current: 2, previous: 1 });
    expect(mid.state).toMatchObject({ status: 'rotating', rotation: { step: 'announce' } });
    failPublish = false;
    await expect(handleRotationRequest(request, deps)).resolves.toMatchObject({
      action: 'completed',
    });
    expect(h.published.filter((p) => p.data.secret === secret.name)).toHaveLength(1);
  });
});
