import { randomUUID } from 'node:crypto';
import { pubsubCloudEvent } from '../../../devtools/events';
import { ManualClock } from '../../../devtools/manual-clock';
import {
  type FakeWorkspace,
  startFakeWorkspace,
} from '../../../emulator/databricks/fake-workspace';
import type { CallCounts } from '../../../emulator/secret-manager';
import { makeRefreshConsumers } from '../../../functions/refresh-consumers';
import { makeRetireVersions } from '../../../functions/retire-versions';
import { CONFIG_KEYS } from '../../../shared/config/annotations';
import { engineFor } from '../../../shared/engines/registry';
import type { RotationRequest } from '../../../shared/events/rotation-request';
import { createLogger } from '../../../shared/logging/logger';
import { Redactor } from '../../../shared/logging/redactor';
import { handleRotationRequest } from '../../../shared/rotation/rotator';
import { databricksClients } from '../../../shared/runtime/databricks-clients';
import { parseSettings } from '../../../shared/runtime/settings';
import {
  createRotationHarness,
  type ManagedSecret,
  PROJECT,
  type RotationHarness,
} from '../../support/rotation-harness';
import { type Budget, CALL_BUDGET, IDLE_SECRETS } from './budget';

/**
 * Secret Manager calls per operation, counted by the emulator as they cross the wire, against the
 * budget table in budget.ts. Each measurement has its own emulator (and so its own project
 * listing); nothing else talks to it while it counts. The figures are printed for the bench
 * report and the README.
 */
const HOUR = 3_600_000;
const measured: Record<string, CallCounts> = {};

afterAll(() => {
  const lines = Object.entries(measured).map(
    ([op, c]) =>
      `${op.padEnd(26)} read ${c.read}  write ${c.write}  access ${c.access}  ${JSON.stringify(c.byMethod)}`,
  );
  process.stdout.write(`Secret Manager calls per operation:\n${lines.join('\n')}\n`);
});

function within(op: keyof typeof CALL_BUDGET, calls: CallCounts): void {
  measured[op] = calls;
  const budget: Budget = CALL_BUDGET[op];
  expect({ read: calls.read, write: calls.write, access: calls.access }).toEqual({
    read: Math.min(calls.read, budget.read),
    write: Math.min(calls.write, budget.write),
    access: Math.min(calls.access, budget.access),
  });
}

async function withHarness<T>(
  clock: ManualClock,
  fn: (h: RotationHarness) => Promise<T>,
): Promise<T> {
  const h = await createRotationHarness({ clock });
  try {
    return await fn(h);
  } finally {
    h.assertNoPasswordInLogs();
    await h.stop();
  }
}

function rotate(h: RotationHarness, clock: ManualClock, secret: ManagedSecret) {
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
}

const retireFunction = (h: RotationHarness, clock: ManualClock) => {
  const runtime = {
    ...parseSettings({ GCP_PROJECT: PROJECT, ROTATOR_STAGING_SECRET: h.stagingSecret }),
    locations: [],
  };
  const fn = makeRetireVersions(() => ({
    ...h.deps,
    clock,
    engineFor: (n) => engineFor(n),
    runtime,
  }));
  return () => fn(pubsubCloudEvent({ data: {} }, `projects/${PROJECT}/topics/retire-tick`));
};

describe.each([
  ['single-user', 'rotationSingleUser'],
  ['alternating-users', 'rotationAlternatingUsers'],
] as const)('a successful PostgreSQL %s rotation', (strategy, op) => {
  it('stays within its call budget', async () => {
    const clock = new ManualClock(Date.now());
    await withHarness(clock, async (h) => {
      const secret = await h.createManagedSecret({ engine: 'postgres', strategy });
      // Adopted, as onboarding leaves it (`current` set): a secret that never had `current`
      // pays one ListSecretVersions more on its first rotation, to find its newest version.
      const fresh = await h.store.getSecret(secret.name);
      await h.store.updateSecret(fresh, { aliases: { current: 1 } });
      const { calls } = await h.emulator.calls.during(() => rotate(h, clock, secret));
      expect((await h.snapshot(secret)).secret.aliases).toMatchObject({ current: 2 });
      within(op, calls);
    });
  });
});

it('refreshConsumers with one target stays within its call budget', async () => {
  const clock = new ManualClock(Date.now());
  const ws: FakeWorkspace = await startFakeWorkspace();
  try {
    await withHarness(clock, async (h) => {
      const token = `dapi${randomUUID().replace(/-/g, '')}`;
      ws.acceptToken(token);
      h.passwords.add(token);
      await h.client.createSecret({
        parent: `projects/${PROJECT}`,
        secretId: 'dbx-token',
        secret: { replication: { automatic: {} } },
      });
      await h.client.addSecretVersion({
        parent: `projects/${PROJECT}/secrets/dbx-token`,
        payload: { data: Buffer.from(token) },
      });
      ws.secrets.addScope('etl');
      const secret = await h.createManagedSecret({
        engine: 'postgres',
        strategy: 'alternating-users',
        annotations: {
          [CONFIG_KEYS.consumers]: JSON.stringify({
            workspace: { host: ws.url, auth: { type: 'pat', tokenSecret: 'dbx-token' } },
            targets: [{ kind: 'secret-scope', scope: 'etl', key: 'orders-db' }],
          }),
        },
      });
      await rotate(h, clock, secret);
      const outcome = h.published.filter((p) => p.data.secret === secret.name).at(-1);
      if (!outcome) throw new Error('no outcome published');
      const redactor = new Redactor();
      const refresh = makeRefreshConsumers(() => ({
        store: h.store,
        clock,
        logger: h.deps.logger,
        redactor,
        runtime: {
          projectId: PROJECT,
          scope: { projects: [PROJECT] },
          databricks: {
            hosts: [ws.url],
            credentialSecrets: [`projects/${PROJECT}/secrets/dbx-token`],
          },
        },
        databricksClientFor: databricksClients(
          {
            clock,
            random: Math.random,
            redactor,
            logger: createLogger({ sink: { write: () => {} } }),
          },
          h.store,
          PROJECT,
        ),
      }));
      const event = pubsubCloudEvent(
        { data: outcome.data, attributes: outcome.attributes },
        `projects/${PROJECT}/topics/rotation-events`,
      );
      const { calls } = await h.emulator.calls.during(() => refresh(event));
      expect(ws.secrets.value('etl', 'orders-db')).toBe(
        await h.store.accessVersion(secret.name, 2),
      );
      within('refreshOneTarget', calls);
    });
  } finally {
    await ws.close();
  }
});

it('a retire tick that retires one secret stays within its call budget', async () => {
  const clock = new ManualClock(Date.now());
  await withHarness(clock, async (h) => {
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'alternating-users',
    });
    await rotate(h, clock, secret);
    clock.advance(HOUR + 1000);
    const { calls } = await h.emulator.calls.during(retireFunction(h, clock));
    const after = await h.snapshot(secret);
    expect(after.versions.find((v) => v.number === 1)?.state).toBe('DISABLED');
    within('retirement', calls);
  });
});

it(`an idle retire tick over ${IDLE_SECRETS} managed secrets stays within its call budget`, async () => {
  const clock = new ManualClock(Date.now());
  await withHarness(clock, async (h) => {
    for (let i = 0; i < IDLE_SECRETS; i++) {
      await h.createManagedSecret({ engine: 'postgres', strategy: 'alternating-users' });
    }
    const tick = retireFunction(h, clock);
    // The first tick after the secrets changed (here: were created) lists and records.
    const first = await h.emulator.calls.during(tick);
    within('idleRetireTickAfterChange', first.calls);
    // An hour later, nothing changed: nothing is listed.
    clock.advance(HOUR);
    const { calls } = await h.emulator.calls.during(tick);
    const done = h.sink
      .entries()
      .filter((e) => e.event === 'retire.tick')
      .at(-1);
    expect(done).toMatchObject({ secrets: IDLE_SECRETS, actions: 0, failures: 0 });
    within('idleRetireTick', calls);
  });
});
