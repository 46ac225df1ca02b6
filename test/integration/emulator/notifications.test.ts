import { PubSub } from '@google-cloud/pubsub';
import { status } from '@grpc/grpc-js';
import { createPubSubNotifier } from '../../../emulator/secret-manager';
import { createLogger, memorySink } from '../../../shared/logging/logger';
import {
  AUTOMATIC,
  failure,
  type ManualClock,
  manualClock,
  type Rig,
  startRig,
  TOPIC,
} from './harness';

const OTHER = 'projects/other/topics/audit';

describe('SM emulator: notifications', () => {
  let rig: Rig;
  let clock: ManualClock;
  let n = 0;
  beforeAll(async () => {
    clock = manualClock(Date.parse('2026-10-02T13:02:50.882Z'));
    rig = await startRig({ clock });
  });
  afterAll(() => rig.stop());
  beforeEach(() => rig.emulator.notifications.clear());

  const secret = async (extra: Record<string, unknown> = {}) => {
    const [s] = await rig.client.createSecret({
      parent: 'projects/p',
      secretId: `events-${n++}`,
      secret: { replication: AUTOMATIC, topics: [{ name: TOPIC }, { name: OTHER }], ...extra },
    });
    return s;
  };
  const sink = () => rig.emulator.notifications;

  it('announces a create on every topic: TOPIC_CONFIGURED first, then SECRET_CREATE', async () => {
    const s = await secret({ labels: { rotator: 'managed' } });
    const [configured1, configured2, create1, create2] = await sink().next(4);
    expect(
      [configured1, configured2].map((m) => [m?.topic, m?.attributes, m?.data.length]),
    ).toEqual([
      [TOPIC, { eventType: 'TOPIC_CONFIGURED' }, 0],
      [OTHER, { eventType: 'TOPIC_CONFIGURED' }, 0],
    ]);
    expect([create1?.topic, create2?.topic]).toEqual([TOPIC, OTHER]);
    expect(create1?.attributes).toEqual({
      eventType: 'SECRET_CREATE',
      dataFormat: 'JSON_API_V1',
      secretId: s.name,
      // Production writes Pacific time with its offset.
      timestamp: '2026-10-02T06:02:50.882-07:00',
    });
    expect(create1?.json).toEqual({
      name: s.name,
      createTime: '2026-10-02T13:02:50.882Z',
      etag: s.etag,
      labels: { rotator: 'managed' },
      replication: { automatic: {} },
      topics: [{ name: TOPIC }, { name: OTHER }],
    });
  });

  it('sends secret and version events as proto3 JSON: camelCase, int64 as strings, durations, enums', async () => {
    const s = await secret({ versionDestroyTtl: { seconds: 86_400 } });
    await sink().next(4);
    const [v] = await rig.client.addSecretVersion({
      parent: s.name,
      payload: { data: Buffer.from('s3cr3t-value') },
    });
    const [add] = await sink().next(2);
    expect(add?.attributes).toMatchObject({
      eventType: 'SECRET_VERSION_ADD',
      secretId: s.name,
      versionId: v.name,
      dataFormat: 'JSON_API_V1',
    });
    expect(add?.json).toEqual({
      name: v.name,
      createTime: '2026-10-02T13:02:50.882Z',
      state: 'ENABLED',
      replicationStatus: { automatic: {} },
      etag: v.etag,
    });
    expect(add?.data.toString()).not.toContain('s3cr3t');

    const [u] = await rig.client.updateSecret({
      secret: { name: s.name, versionAliases: { current: 1 } },
      updateMask: { paths: ['version_aliases'] },
    });
    const [update] = await sink().next(2);
    expect(update?.attributes.eventType).toBe('SECRET_UPDATE');
    expect(update?.json).toMatchObject({
      versionAliases: { current: '1' },
      versionDestroyTtl: '86400s',
      etag: u.etag,
    });
  });

  it('announces a scheduled destruction when it comes due', async () => {
    const s = await secret({ versionDestroyTtl: { seconds: 86_400 } });
    await rig.client.addSecretVersion({ parent: s.name, payload: { data: Buffer.from('x') } });
    const name = `${s.name}/versions/1`;
    await rig.client.disableSecretVersion({ name });
    await rig.client.enableSecretVersion({ name });
    await rig.client.destroySecretVersion({ name });
    sink().clear();
    clock.advance(86_400_000);
    await rig.emulator.checkRotations();
    const [destroyed] = await sink().next(2);
    expect(destroyed?.attributes).toMatchObject({
      eventType: 'SECRET_VERSION_DESTROY',
      versionId: name,
    });
    expect(destroyed?.json).toMatchObject({ state: 'DESTROYED', destroyTime: expect.any(String) });

    const kinds = await eventsOf(s.name);
    expect(kinds).toEqual(['SECRET_VERSION_DESTROY']);
  });

  it('publishes the scheduled destroy, disable and enable in order', async () => {
    const s = await secret({ versionDestroyTtl: { seconds: 86_400 } });
    await rig.client.addSecretVersion({ parent: s.name, payload: { data: Buffer.from('x') } });
    const name = `${s.name}/versions/1`;
    await rig.client.disableSecretVersion({ name });
    await rig.client.enableSecretVersion({ name });
    const [scheduled] = await rig.client.destroySecretVersion({ name });
    expect(await eventsOf(s.name)).toEqual([
      'SECRET_CREATE',
      'SECRET_VERSION_ADD',
      'SECRET_VERSION_DISABLE',
      'SECRET_VERSION_ENABLE',
      'SECRET_VERSION_DESTROY_SCHEDULED',
    ]);
    const last = sink().messages.at(-1);
    expect(last?.json).toMatchObject({
      state: 'DISABLED',
      scheduledDestroyTime: expect.any(String),
      etag: scheduled.etag,
    });
  });

  it('announces deletes, requested and by expiration, with their deleteType', async () => {
    const requested = await secret();
    await rig.client.deleteSecret({ name: requested.name });
    const deleted = sink().messages.filter((m) => m.attributes.eventType === 'SECRET_DELETE');
    expect(deleted.map((m) => m.attributes.deleteType)).toEqual(['REQUESTED', 'REQUESTED']);
    expect(deleted[0]?.json).toMatchObject({ name: requested.name });

    const expiring = await secret({ ttl: { seconds: 120 } });
    clock.advance(120_000);
    await rig.emulator.checkRotations();
    const expired = sink().messages.filter(
      (m) => m.attributes.eventType === 'SECRET_DELETE' && m.attributes.secretId === expiring.name,
    );
    expect(expired.map((m) => m.attributes.deleteType)).toEqual(['EXPIRATION', 'EXPIRATION']);
    expect((await failure(rig.client.getSecret({ name: expiring.name }))).code).toBe(
      status.NOT_FOUND,
    );
  });

  it('publishes nothing for reads, and nothing for a secret without topics', async () => {
    const s = await secret();
    await rig.client.addSecretVersion({ parent: s.name, payload: { data: Buffer.from('x') } });
    sink().clear();
    await rig.client.getSecret({ name: s.name });
    await rig.client.listSecrets({ parent: 'projects/p' });
    await rig.client.listSecretVersions({ parent: s.name });
    await rig.client.getSecretVersion({ name: `${s.name}/versions/1` });
    await rig.client.accessSecretVersion({ name: `${s.name}/versions/latest` });
    const [quiet] = await rig.client.createSecret({
      parent: 'projects/p',
      secretId: `quiet-${n++}`,
      secret: { replication: AUTOMATIC },
    });
    await rig.client.addSecretVersion({ parent: quiet.name, payload: { data: Buffer.from('x') } });
    expect(sink().messages).toEqual([]);
  });

  it('never fails the call when publishing fails, and logs it', async () => {
    const logs = memorySink();
    const failing = await startRig({
      notifier: {
        publish: async (m) => {
          if (m.attributes.eventType !== 'TOPIC_CONFIGURED') throw new Error('pubsub down');
        },
      },
      logger: createLogger({ sink: logs, minSeverity: 'WARNING' }),
    });
    try {
      const [s] = await failing.client.createSecret({
        parent: 'projects/p',
        secretId: 'publish-fails',
        secret: { replication: AUTOMATIC, topics: [{ name: TOPIC }] },
      });
      const [v] = await failing.client.addSecretVersion({
        parent: s.name,
        payload: { data: Buffer.from('x') },
      });
      expect(v.state).toBe('ENABLED');
      // The in-process record still has them; the retries end in a warning.
      expect(failing.emulator.notifications.messages.map((m) => m.eventType)).toEqual([
        'TOPIC_CONFIGURED',
        'SECRET_CREATE',
        'SECRET_VERSION_ADD',
      ]);
      await waitFor(() => logs.entries().length >= 2, 5000);
      expect(logs.entries()[0]).toMatchObject({
        severity: 'WARNING',
        topic: TOPIC,
        error: { message: 'pubsub down' },
      });
    } finally {
      await failing.stop();
    }
  });

  if (process.env.PUBSUB_EMULATOR_HOST) {
    it(`publishes through Pub/Sub at PUBSUB_EMULATOR_HOST (${process.env.PUBSUB_EMULATOR_HOST})`, async () => {
      const pubsub = new PubSub({
        projectId: 'p',
        emulatorMode: true,
        universeDomain: 'googleapis.com',
      });
      const [topic] = await pubsub.createTopic(`sm-events-${Date.now()}`);
      const [subscription] = await topic.createSubscription(`${topic.name.split('/').pop()}-sub`);
      const through = await startRig({ notifier: createPubSubNotifier(pubsub) });
      try {
        const received = new Promise<{ attributes: Record<string, string>; data: Buffer }[]>(
          (resolve) => {
            const got: { attributes: Record<string, string>; data: Buffer }[] = [];
            subscription.on('message', (m) => {
              m.ack();
              got.push({ attributes: m.attributes, data: m.data });
              if (got.length === 2) resolve(got);
            });
          },
        );
        const [s] = await through.client.createSecret({
          parent: 'projects/p',
          secretId: 'via-pubsub',
          secret: { replication: AUTOMATIC, topics: [{ name: topic.name }] },
        });
        const messages = await received;
        expect(messages.map((m) => m.attributes.eventType).sort()).toEqual([
          'SECRET_CREATE',
          'TOPIC_CONFIGURED',
        ]);
        const create = messages.find((m) => m.attributes.eventType === 'SECRET_CREATE');
        expect(create?.attributes).toMatchObject({ secretId: s.name, dataFormat: 'JSON_API_V1' });
        expect(JSON.parse(create?.data.toString() ?? '{}')).toMatchObject({
          name: s.name,
          etag: s.etag,
        });
        expect(
          await failure(
            through.client.createSecret({
              parent: 'projects/p',
              secretId: 'via-missing-topic',
              secret: {
                replication: AUTOMATIC,
                topics: [{ name: 'projects/p/topics/does-not-exist' }],
              },
            }),
          ),
        ).toEqual({
          code: status.NOT_FOUND,
          details: 'Topic [projects/p/topics/does-not-exist] not found.',
        });
      } finally {
        await subscription.close();
        await through.stop();
        await subscription.delete();
        await topic.delete();
        await pubsub.close();
      }
    });
  }

  async function eventsOf(secretName: string | null | undefined): Promise<string[]> {
    return sink()
      .messages.filter((m) => m.topic === TOPIC && m.attributes.secretId === secretName)
      .map((m) => m.eventType);
  }
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
