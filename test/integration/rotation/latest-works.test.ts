import { randomUUID } from 'node:crypto';
import { canLogin } from '../../../devtools/db-fixtures';
import { holdLock } from '../../../devtools/lock-holder';
import { CONFIG_KEYS } from '../../../shared/config/annotations';
import type { DatabaseEngine, EngineName } from '../../../shared/engines/engine';
import { TransientError } from '../../../shared/errors';
import type { RotationRequest } from '../../../shared/events/rotation-request';
import type { RotatorDeps } from '../../../shared/rotation/context';
import { handleRotationRequest } from '../../../shared/rotation/rotator';
import {
  createRotationHarness,
  type ManagedSecret,
  type RotationHarness,
} from '../../support/rotation-harness';

/**
 * Issue 13: consumers read `latest` (Cloud Run mounts, External Secrets, Databricks' Secret
 * Manager-backed schemas). With alternating-users and dual-password, `latest` and `current` of
 * the managed secret both log in at every moment: while a rotation is held inside `set` or
 * `test`, after it, and after an unresolved rotation (the database unreachable). The pending
 * credential waits in the staging secret, never in the managed one.
 */
let h: RotationHarness;
beforeAll(async () => {
  h = await createRotationHarness();
});
afterAll(async () => {
  h.assertNoPasswordInLogs();
  await h.stop();
});

const CASES = [
  ['postgres', 'alternating-users'],
  ['mariadb', 'dual-password'],
] as const;

const request = (secret: ManagedSecret): RotationRequest => ({
  secret: secret.name,
  trigger: 'on-demand',
  requestKey: `on-demand:${randomUUID()}`,
  requestedAt: Date.now(),
});

/** Read `ref` (an alias or `latest`) of the managed secret as a consumer does, and log in. */
async function logsIn(secret: ManagedSecret, ref: 'latest' | 'current'): Promise<boolean> {
  const [res] = await h.client.accessSecretVersion({ name: `${secret.name}/versions/${ref}` });
  const p = JSON.parse(Buffer.from(res.payload?.data ?? '').toString()) as {
    username: string;
    password: string;
  };
  h.passwords.add(p.password);
  return canLogin(
    secret.fixture.engine,
    secret.server,
    secret.fixture.database,
    p.username,
    p.password,
  );
}

/** A managed secret as onboarding leaves it: `current` names its one version. */
async function adopted(
  engine: 'postgres' | 'mariadb',
  strategy: 'alternating-users' | 'dual-password',
  annotations: Record<string, string> = {},
): Promise<ManagedSecret> {
  const secret = await h.createManagedSecret({ engine, strategy, annotations });
  await h.store.updateSecret(await h.store.getSecret(secret.name), { aliases: { current: 1 } });
  return secret;
}

async function bothLogIn(secret: ManagedSecret): Promise<void> {
  await expect(logsIn(secret, 'latest')).resolves.toBe(true);
  await expect(logsIn(secret, 'current')).resolves.toBe(true);
}

/** A gate the wrapped engine waits at; `entered` resolves when the rotation reached it. */
function gate() {
  let open: () => void = () => undefined;
  let reached: () => void = () => undefined;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  const entered = new Promise<void>((r) => {
    reached = r;
  });
  return { open, opened, entered, reached };
}

describe.each(CASES)('%s %s', (engine, strategy) => {
  it('latest and current both log in while the rotation is held in set (a database lock)', async () => {
    const secret = await adopted(engine, strategy);
    const g = gate();
    // The set step is held twice over: its session waits at a gate before it changes anything,
    // and then for a lock another session holds (MariaDB: the privilege table its ALTER USER
    // needs; PostgreSQL: the current login's catalog row), released only after the checks.
    const wrap = (e: DatabaseEngine): DatabaseEngine => ({
      ...e,
      withSession: async (endpoint, cred, fn, opts) =>
        e.withSession(
          endpoint,
          cred,
          async (s) => {
            g.reached();
            await g.opened;
            return fn(s);
          },
          opts,
        ),
    });
    const release = await holdLock(engine, secret.server, secret.fixture.username);
    const deps: RotatorDeps = {
      ...h.deps,
      engineFor: (n: EngineName) => wrap(h.deps.engineFor(n)),
    };
    const rotation = handleRotationRequest(request(secret), deps);
    try {
      await g.entered;
      // Held in set: the managed secret holds only the working credential.
      await bothLogIn(secret);
      expect((await h.snapshot(secret)).versions.map((v) => v.number)).toEqual([1]);
      g.open();
      await new Promise((r) => setTimeout(r, 200));
      await bothLogIn(secret);
    } finally {
      g.open();
      await release();
    }
    await expect(rotation).resolves.toMatchObject({ action: 'completed', version: 2 });
    await bothLogIn(secret);
    const s = await h.snapshot(secret);
    expect(s.secret.aliases).toEqual({ current: 2, previous: 1 });
    expect(s.versions.map((v) => v.number)).toEqual([2, 1]);
  });

  it('latest and current both log in while the rotation is held in test', async () => {
    const secret = await adopted(engine, strategy);
    const g = gate();
    // The test step's login with the pending credential waits (a replica that lags, a pooler).
    const wrap = (e: DatabaseEngine): DatabaseEngine => ({
      ...e,
      tryLogin: async (endpoint, cred, query) => {
        if (query !== undefined) {
          g.reached();
          await g.opened;
        }
        return e.tryLogin(endpoint, cred, query);
      },
    });
    const deps: RotatorDeps = {
      ...h.deps,
      engineFor: (n: EngineName) => wrap(h.deps.engineFor(n)),
    };
    const rotation = handleRotationRequest(request(secret), deps);
    try {
      await g.entered;
      // The database already accepts the pending credential; the managed secret does not hold it.
      await bothLogIn(secret);
      expect((await h.snapshot(secret)).versions.map((v) => v.number)).toEqual([1]);
      expect(await h.stagedFor(secret)).toHaveLength(1);
    } finally {
      g.open();
    }
    await expect(rotation).resolves.toMatchObject({ action: 'completed', version: 2 });
    await bothLogIn(secret);
  });

  it('latest and current both log in after an unresolved rotation (database unreachable)', async () => {
    const secret = await adopted(engine, strategy, { [CONFIG_KEYS.maxAttempts]: '2' });
    // The database becomes unreachable right after `set` applied the pending credential.
    let down = false;
    const wrap = (e: DatabaseEngine): DatabaseEngine => ({
      ...e,
      tryLogin: (endpoint, ...rest) =>
        e.tryLogin(down ? { ...endpoint, port: 1 } : endpoint, ...rest),
      withSession: async (endpoint, ...rest) => {
        const out = await e.withSession(down ? { ...endpoint, port: 1 } : endpoint, ...rest);
        down = true;
        return out;
      },
    });
    const deps: RotatorDeps = {
      ...h.deps,
      engineFor: (n: EngineName) => wrap(h.deps.engineFor(n)),
    };
    const req = request(secret);
    for (let i = 0; i < 2; i++) {
      await expect(handleRotationRequest(req, deps)).rejects.toBeInstanceOf(TransientError);
    }
    await expect(handleRotationRequest(req, deps)).resolves.toMatchObject({ action: 'failed' });
    const s = await h.snapshot(secret);
    expect(s.state).toMatchObject({ status: 'failed', rotation: { unresolved: true } });
    // The database is reachable again for consumers: what they read works.
    await bothLogIn(secret);
    expect(s.versions.map((v) => v.number)).toEqual([1]);
    // The staged credential (the database may accept it) is kept, not handed to retirement.
    expect(await h.stagedFor(secret)).toHaveLength(1);
    expect(s.state.stagedToDestroy).toBeUndefined();
    // The next request resumes it with the same staged credential, and both still log in.
    await expect(
      handleRotationRequest({ ...request(secret), requestedAt: Date.now() + 1 }, h.deps),
    ).resolves.toMatchObject({ action: 'completed', version: 2 });
    await bothLogIn(secret);
    expect(await h.stagedFor(secret)).toHaveLength(1);
  });
});
