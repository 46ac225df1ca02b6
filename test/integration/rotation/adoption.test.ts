import { randomUUID } from 'node:crypto';
import { canLogin, fixturePassword, loginPayload } from '../../../devtools/db-fixtures';
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
 * Invariant 2 against versions the rotator did not add: an operator's hand-added version (a typo
 * in the password) is never adopted as pending, never becomes `current` without a real login, and
 * adopting never changes the current login's password.
 */
let h: RotationHarness;
beforeAll(async () => {
  h = await createRotationHarness();
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

/** An operator's `gcloud secrets versions add` with a mistyped password. */
async function operatorAdds(secret: ManagedSecret): Promise<number> {
  const typo = fixturePassword();
  h.passwords.add(typo);
  return h.addVersion(secret.name, loginPayload(secret.fixture, secret.fixture.username, typo));
}

it('after an unresolved rotation, a hand-added version never becomes current without a login', async () => {
  const secret = await h.createManagedSecret({
    engine: 'postgres',
    strategy: 'single-user',
    annotations: {
      [CONFIG_KEYS.testQuery]: 'SELECT * FROM no_such_table_here',
      [CONFIG_KEYS.maxAttempts]: '2',
    },
  });
  // The database becomes unreachable right after the first `set` (a real refused connection).
  let down = false;
  let sessions = 0;
  const wrap = (e: DatabaseEngine): DatabaseEngine => ({
    ...e,
    tryLogin: (endpoint, ...rest) =>
      e.tryLogin(down ? { ...endpoint, port: 1 } : endpoint, ...rest),
    withSession: async (endpoint, ...rest) => {
      const out = await e.withSession(down ? { ...endpoint, port: 1 } : endpoint, ...rest);
      if (++sessions === 1) down = true;
      return out;
    },
  });
  const deps: RotatorDeps = { ...h.deps, engineFor: (n: EngineName) => wrap(h.deps.engineFor(n)) };
  const first = request(secret);
  for (let i = 0; i < 2; i++) {
    await expect(handleRotationRequest(first, deps)).rejects.toBeInstanceOf(TransientError);
  }
  await expect(handleRotationRequest(first, deps)).resolves.toMatchObject({ action: 'failed' });
  expect((await h.snapshot(secret)).state.rotation).toMatchObject({ unresolved: true });

  const handAdded = await operatorAdds(secret);
  down = false;
  // The next request resumes; its test is rejected (the query), so the failure path runs.
  await expect(handleRotationRequest(request(secret), deps)).resolves.toMatchObject({
    action: 'failed',
  });
  const s = await h.snapshot(secret);
  expect(s.secret.aliases.current).not.toBe(handAdded);
  await expect(h.versionLogsIn(secret, s.secret.aliases.current as number)).resolves.toBe(true);
  await expect(h.versionLogsIn(secret, handAdded)).resolves.toBe(false);
});

it('alternating-users: a version added during an interrupted create is not adopted, and the current login keeps its password', async () => {
  const secret = await h.createManagedSecret({ engine: 'mariadb', strategy: 'alternating-users' });
  const short = { ...h.deps.settings, leaseMs: 3_000 };
  const req = request(secret);
  // The worker dies right after its claim, before it added its version.
  const dying: RotatorDeps = {
    ...h.deps,
    settings: short,
    failpoint: (p) => {
      if (p === 'claimed') throw new Error('killed (injected)');
    },
  };
  await expect(handleRotationRequest(req, dying)).rejects.toThrow('killed');
  // Meanwhile an operator adds a version naming the current login, with a typo.
  const handAdded = await operatorAdds(secret);
  await sleep(3_100);
  // The redelivery takes over: the hand-added version is not its pending version.
  await expect(handleRotationRequest(req, { ...h.deps, settings: short })).resolves.toMatchObject({
    action: 'completed',
  });
  const s = await h.snapshot(secret);
  expect(s.secret.aliases.current).not.toBe(handAdded);
  expect(s.secret.aliases.previous).toBe(1);
  await expect(h.versionLogsIn(secret, s.secret.aliases.current as number)).resolves.toBe(true);
  // The login that was current keeps its password (it is `previous` now, still in its grace).
  const { fixture } = secret;
  await expect(
    canLogin('mariadb', secret.server, fixture.database, fixture.username, fixture.password),
  ).resolves.toBe(true);
  expect(h.sink.entries().some((e) => e.event === 'rotation.foreign-version')).toBe(true);
});
