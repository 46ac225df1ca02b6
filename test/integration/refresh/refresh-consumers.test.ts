import { randomUUID } from 'node:crypto';
import { pubsubCloudEvent } from '../../../devtools/events';
import {
  type FakeWorkspace,
  startFakeWorkspace,
} from '../../../emulator/databricks/fake-workspace';
import { makeRefreshConsumers } from '../../../functions/refresh-consumers';
import { systemClock } from '../../../shared/clock';
import { CONFIG_KEYS } from '../../../shared/config/annotations';
import { readRefreshRecord } from '../../../shared/consumers/refresh-record';
import type { RotationRequest } from '../../../shared/events/rotation-request';
import { createLogger } from '../../../shared/logging/logger';
import { Redactor } from '../../../shared/logging/redactor';
import { planSecret } from '../../../shared/retirement/retire-secret';
import { rollBack } from '../../../shared/rotation/rollback';
import { handleRotationRequest } from '../../../shared/rotation/rotator';
import { databricksClients } from '../../../shared/runtime/databricks-clients';
import {
  createRotationHarness,
  type ManagedSecret,
  PROJECT,
  type RotationHarness,
} from '../../support/rotation-harness';

/**
 * refreshConsumers as wired in production (the Secret Manager emulator, the real Databricks client
 * against the fake workspace): a rotation's outcome event applies the secret's targets, records
 * them on the Secret, and a redelivery starts nothing twice. Retirement reads that record.
 */
const TOKEN = `dapi${randomUUID().replace(/-/g, '')}`;
let h: RotationHarness;
let ws: FakeWorkspace;
let refresh: (event: unknown) => Promise<void>;

beforeAll(async () => {
  h = await createRotationHarness();
  ws = await startFakeWorkspace();
  ws.acceptToken(TOKEN);
  h.passwords.add(TOKEN);
  await h.client.createSecret({
    parent: `projects/${PROJECT}`,
    secretId: 'dbx-token',
    secret: { replication: { automatic: {} } },
  });
  await h.client.addSecretVersion({
    parent: `projects/${PROJECT}/secrets/dbx-token`,
    payload: { data: Buffer.from(TOKEN) },
  });
  const redactor = new Redactor();
  refresh = makeRefreshConsumers(() => ({
    store: h.store,
    clock: systemClock,
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
        clock: systemClock,
        random: Math.random,
        redactor,
        logger: createLogger({ sink: { write: () => {} } }),
      },
      h.store,
      PROJECT,
    ),
  }));
});
afterAll(async () => {
  await ws.close();
  h.assertNoPasswordInLogs();
  await h.stop();
});

function consumersFor(jobId: number, clusterId: string, scopeKey: string) {
  return JSON.stringify({
    workspace: { host: ws.url, auth: { type: 'pat', tokenSecret: 'dbx-token' } },
    targets: [
      { kind: 'secret-scope', scope: 'etl', key: scopeKey },
      { kind: 'job', jobId, mode: 'triggered', onRotate: 'restart' },
      { kind: 'cluster', clusterId },
    ],
  });
}

async function rotated(secret: ManagedSecret) {
  const request: RotationRequest = {
    secret: secret.name,
    trigger: 'on-demand',
    requestKey: `on-demand:${randomUUID()}`,
    requestedAt: Date.now(),
  };
  await handleRotationRequest(request, h.deps);
  const published = h.published.filter((p) => p.data.secret === secret.name).at(-1);
  if (!published) throw new Error('no outcome published');
  return pubsubCloudEvent(
    { data: published.data, attributes: published.attributes },
    `projects/${PROJECT}/topics/rotation-events`,
  );
}

it('applies every target, records them, and a redelivery starts no second run', async () => {
  // Prepare
  const jobId = 101;
  ws.jobs.add({ jobId });
  ws.clusters.add({ clusterId: 'c-101', state: 'RUNNING' });
  ws.secrets.addScope('etl');
  const secret = await h.createManagedSecret({
    engine: 'postgres',
    strategy: 'alternating-users',
    annotations: { [CONFIG_KEYS.consumers]: consumersFor(jobId, 'c-101', 'orders-db') },
  });
  const event = await rotated(secret);
  // Act
  await refresh(event);
  await refresh(event);
  // Assess
  const record = readRefreshRecord((await h.store.getSecret(secret.name)).annotations);
  expect(record).toMatchObject({
    version: 2,
    targets: [
      { id: 'secret-scope:etl/orders-db', status: 'done' },
      { id: 'job:101', status: 'done' },
      { id: 'cluster:c-101', status: 'done' },
    ],
  });
  expect(ws.jobs.runsOf(jobId).filter((r) => r.idempotency_token)).toHaveLength(1);
  expect(ws.clusters.inspect('c-101').restarts).toBe(1);
  // The scope holds exactly the new version's payload.
  expect(ws.secrets.value('etl', 'orders-db')).toBe(await h.store.accessVersion(secret.name, 2));
  // Retirement sees every consumer confirmed.
  const { plan } = await planSecret(await h.store.getSecret(secret.name), {
    store: h.store,
    clock: { ...systemClock, now: () => Date.now() + 2 * 3_600_000 },
  });
  expect(plan.actions).toEqual([
    { kind: 'retire-previous', version: 1, unconfirmed: [], forced: false },
  ]);
});

it('one failing target does not stop the others, and retirement keeps waiting for it', async () => {
  ws.jobs.add({ jobId: 202 });
  ws.clusters.add({ clusterId: 'c-202', state: 'RUNNING' });
  ws.secrets.addScope('etl');
  ws.faults.add({ path: '/api/2.1/clusters/get', status: 403, times: 100 });
  const secret = await h.createManagedSecret({
    engine: 'mariadb',
    strategy: 'dual-password',
    annotations: { [CONFIG_KEYS.consumers]: consumersFor(202, 'c-202', 'mdb') },
  });
  const event = await rotated(secret);
  await refresh(event);
  ws.faults.clear();
  const record = readRefreshRecord((await h.store.getSecret(secret.name)).annotations);
  expect(record?.targets.map((t) => [t.id, t.status])).toEqual([
    ['secret-scope:etl/mdb', 'done'],
    ['job:202', 'done'],
    ['cluster:c-202', 'failed'],
  ]);
  const { plan } = await planSecret(await h.store.getSecret(secret.name), {
    store: h.store,
    clock: { ...systemClock, now: () => Date.now() + 2 * 3_600_000 },
  });
  expect(plan.waiting).toMatch(/waiting for consumers \(cluster:c-202\)/);
});

it('ignores failed rotations and superseded versions', async () => {
  const secret = await h.createManagedSecret({
    engine: 'postgres',
    strategy: 'single-user',
    annotations: { [CONFIG_KEYS.consumers]: consumersFor(303, 'c-303', 'pg') },
  });
  const first = await rotated(secret);
  await rotated(secret);
  const before = ws.requests.length;
  await refresh(first);
  expect(ws.requests.length).toBe(before);
  expect(h.sink.entries().some((e) => e.event === 'refresh.superseded')).toBe(true);
});

it("a rollback's outcome refreshes the consumers with the restored credential", async () => {
  // Prepare: a rotation refreshed the scope with version 2.
  ws.secrets.addScope('etl');
  const secret = await h.createManagedSecret({
    engine: 'postgres',
    strategy: 'alternating-users',
    annotations: {
      [CONFIG_KEYS.consumers]: JSON.stringify({
        workspace: { host: ws.url, auth: { type: 'pat', tokenSecret: 'dbx-token' } },
        targets: [{ kind: 'secret-scope', scope: 'etl', key: 'rolled-back' }],
      }),
    },
  });
  await refresh(await rotated(secret));
  const announced: { data: string; attributes: Record<string, string> }[] = [];
  const result = await rollBack(
    { secret: secret.name, reason: 'test', requestedBy: 'test', requestId: randomUUID() },
    {
      store: h.store,
      engineFor: h.deps.engineFor,
      publish: async (_topic, data, attributes) => {
        announced.push({ data, attributes });
      },
      clock: systemClock,
      rotationEventsTopic: `projects/${PROJECT}/topics/rotation-events`,
      leaseMs: 60_000,
    },
  );
  const [message] = announced;
  if (!message) throw new Error('the rollback announced nothing');

  // Act
  await refresh(
    pubsubCloudEvent(
      { data: JSON.parse(message.data), attributes: message.attributes },
      `projects/${PROJECT}/topics/rotation-events`,
    ),
  );

  // Assess: the scope holds the restored credential (version 3 == version 1's payload).
  expect(result.toVersion).toBe(3);
  expect(ws.secrets.value('etl', 'rolled-back')).toBe(await h.store.accessVersion(secret.name, 1));
  const record = readRefreshRecord((await h.store.getSecret(secret.name)).annotations);
  expect(record).toMatchObject({ version: 3, targets: [{ status: 'done' }] });
});
