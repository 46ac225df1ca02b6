import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { PubSub, type Subscription } from '@google-cloud/pubsub';
import { captureStdout, close, listen, postCloudEvent } from '../../devtools/cloud-event-http';
import { onDemandRequest, pubsubCloudEvent, secretNotification } from '../../devtools/events';
import { CONFIG_KEYS } from '../../shared/config/annotations';
import { type RotationOutcome, RotationOutcomeSchema } from '../../shared/events/rotation-outcome';
import { createRotationHarness, PROJECT, type RotationHarness } from '../support/rotation-harness';

/**
 * rotateSecret as deployed: functions/index.ts with its production wiring (official Secret
 * Manager client against the emulator, official Pub/Sub client against the emulator or stand-in,
 * the real engines), driven by CloudEvents shaped exactly like Eventarc's over HTTP.
 */
const suffix = randomBytes(3).toString('hex');
const OUTCOME_TOPIC = `rotation-events-${suffix}`;
let h: RotationHarness;
let server: Server;
let url: string;
let pubsub: PubSub;
let subscription: Subscription;
const outcomes: RotationOutcome[] = [];
const stdout = captureStdout();

beforeAll(async () => {
  h = await createRotationHarness();
  Object.assign(process.env, {
    SECRET_MANAGER_EMULATOR_HOST: h.env.SECRET_MANAGER_EMULATOR_HOST,
    GCP_PROJECT: PROJECT,
    ROTATION_EVENTS_TOPIC: `projects/${PROJECT}/topics/${OUTCOME_TOPIC}`,
    LOG_LEVEL: 'DEBUG',
    ROTATOR_TEST_RETRY_MS: '50',
    ROTATOR_STAGING_SECRET: h.stagingSecret,
  });
  pubsub = new PubSub({ projectId: PROJECT, emulatorMode: true, universeDomain: 'googleapis.com' });
  const [topic] = await pubsub.createTopic(OUTCOME_TOPIC);
  [subscription] = await topic.createSubscription(`${OUTCOME_TOPIC}-reader`);
  subscription.on('message', (m) => {
    outcomes.push(RotationOutcomeSchema.parse(JSON.parse(m.data.toString())));
    m.ack();
  });
  require('../../functions/index');
  const { getTestServer } =
    require('@google-cloud/functions-framework/testing') as typeof import('@google-cloud/functions-framework/testing');
  server = getTestServer('rotateSecret');
  url = await listen(server);
});

afterAll(async () => {
  stdout.restore();
  await close(server);
  await subscription.close();
  await pubsub.close();
  h.assertNoPasswordInLogs(stdout.lines);
  await h.stop();
});

async function waitFor<T>(fn: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const parsedLines = () =>
  stdout.lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

describe('rotateSecret through functions-framework', () => {
  it.each(['binary', 'structured'] as const)(
    'rotates a real password on SECRET_ROTATE (%s mode) and announces it on rotation-events',
    async (mode) => {
      // Prepare
      const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
      const event = pubsubCloudEvent(secretNotification('SECRET_ROTATE', secret.name));
      // Act
      const res = await postCloudEvent(url, event, mode);
      // Assess
      expect(res.status).toBe(204);
      const s = await h.snapshot(secret);
      expect(s.secret.aliases).toEqual({ current: 2, previous: 1 });
      await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
      await expect(h.versionLogsIn(secret, 1)).resolves.toBe(false);
      const outcome = await waitFor(() => outcomes.find((o) => o.secret === secret.name));
      expect(outcome).toMatchObject({
        outcome: 'succeeded',
        trigger: 'schedule',
        previousVersion: '1',
        newVersion: '2',
      });
      // A redelivery of the same event (Pub/Sub at-least-once) is acknowledged and does nothing.
      expect((await postCloudEvent(url, event, mode)).status).toBe(204);
      expect((await h.store.listVersions(secret.name)).length).toBe(2);
    },
  );

  it.each([
    ['postgres', 'alternating-users', true],
    ['mariadb', 'single-user', false],
    ['mariadb', 'dual-password', true],
  ] as const)(
    '%s %s: the old credential keeps its documented fate (real logins)',
    async (engine, strategy, oldWorks) => {
      const secret = await h.createManagedSecret({ engine, strategy });
      const res = await postCloudEvent(
        url,
        pubsubCloudEvent(secretNotification('SECRET_ROTATE', secret.name)),
      );
      expect(res.status).toBe(204);
      await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
      await expect(h.versionLogsIn(secret, 1)).resolves.toBe(oldWorks);
    },
  );

  it('the same event delivered 5 times concurrently gives exactly one new version', async () => {
    const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    const event = pubsubCloudEvent(secretNotification('SECRET_ROTATE', secret.name));
    const first = await Promise.all(Array.from({ length: 5 }, () => postCloudEvent(url, event)));
    // One worker rotates; the others are told to come back later (500: Pub/Sub redelivers) or ack.
    expect(first.map((r) => r.status).filter((s) => s === 204).length).toBeGreaterThanOrEqual(1);
    for (const r of first) expect([204, 500]).toContain(r.status);
    // Pub/Sub redelivers what was not acknowledged: now every delivery is acknowledged.
    const again = await Promise.all(Array.from({ length: 5 }, () => postCloudEvent(url, event)));
    expect(again.map((r) => r.status)).toEqual([204, 204, 204, 204, 204]);
    expect((await h.store.listVersions(secret.name)).map((v) => v.number)).toEqual([2, 1]);
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
  });

  it('rotates on an on-demand request, and reads Eventarc snake_case-only fields', async () => {
    const secret = await h.createManagedSecret({
      engine: 'mariadb',
      strategy: 'alternating-users',
    });
    const event = pubsubCloudEvent(
      onDemandRequest(secret.name, { reason: 'suspected leak', requestedBy: 'oncall' }),
    );
    const message = (event.data as { message: Record<string, unknown> }).message;
    delete message.messageId;
    delete message.publishTime;
    expect((await postCloudEvent(url, event)).status).toBe(204);
    const outcome = await waitFor(() => outcomes.find((o) => o.secret === secret.name));
    expect(outcome).toMatchObject({
      outcome: 'succeeded',
      trigger: 'on-demand',
      requestedBy: 'oncall',
    });
    await expect(h.versionLogsIn(secret, 1)).resolves.toBe(true);
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
  });

  it("rotates on a raw Pub/Sub push (the terraform module's direct push trigger)", async () => {
    // Prepare: the body a push subscription sends, to the path functions-framework reads the
    // topic from; functions-framework turns it into a messagePublished CloudEvent itself.
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'alternating-users',
    });
    const n = secretNotification('SECRET_ROTATE', secret.name);
    const body = {
      message: {
        data: Buffer.from(JSON.stringify(n.data)).toString('base64'),
        attributes: n.attributes,
        messageId: '987654321',
        publishTime: new Date().toISOString(),
      },
      subscription: `projects/${PROJECT}/subscriptions/gsm-rotator-rotate-secret-trigger`,
    };
    // Act
    const res = await fetch(`${url}projects/${PROJECT}/topics/secret-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    // Assess
    expect(res.status).toBe(204);
    expect((await h.snapshot(secret)).secret.aliases).toEqual({ current: 2, previous: 1 });
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
  });

  it('logs each step in Cloud Logging format with the rotation id label', async () => {
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'alternating-users',
    });
    await postCloudEvent(url, pubsubCloudEvent(secretNotification('SECRET_ROTATE', secret.name)));
    const outcome = await waitFor(() => outcomes.find((o) => o.secret === secret.name));
    const lines = parsedLines().filter(
      (l) =>
        (l['logging.googleapis.com/labels'] as Record<string, string> | undefined)?.rotation_id ===
        outcome.rotationId,
    );
    expect(lines.map((l) => l.event)).toEqual([
      'rotation.claimed',
      'rotation.step',
      'rotation.step',
      'rotation.step',
      'rotation.step',
      'rotation.step',
      'rotation.completed',
    ]);
    for (const l of lines) {
      expect(l).toMatchObject({
        severity: expect.stringMatching(/^(INFO|NOTICE)$/),
        message: expect.any(String),
      });
      expect(l['logging.googleapis.com/labels']).toEqual({
        secret: secret.name,
        rotation_id: outcome.rotationId,
      });
    }
  });
});

describe('bad input: one clear log line, acknowledged, no crash', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const raw = (message: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    specversion: '1.0',
    id: `bad-${randomBytes(4).toString('hex')}`,
    source: `//pubsub.googleapis.com/projects/${PROJECT}/topics/secret-events`,
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    datacontenttype: 'application/json',
    data: { message },
    ...extra,
  });
  const rotate = (secretId: string) =>
    pubsubCloudEvent(secretNotification('SECRET_ROTATE', secretId));
  const hostileNames = [
    "x'; DROP ROLE postgres; --",
    'x"; DROP TABLE users; --',
    'x`; DROP DATABASE mysql; --',
    '../../etc/passwd',
    'a b',
    'ünïcode',
    'x'.repeat(300),
    '',
    '$(reboot)',
    'name\nwith-newline',
  ];

  const events: [string, () => Promise<Record<string, unknown>>][] = [
    [
      'not a Pub/Sub event type',
      async () => ({
        ...rotate(`projects/${PROJECT}/secrets/x`),
        type: 'google.cloud.storage.object.v1.finalized',
      }),
    ],
    ['no message', async () => raw({}, { data: {} })],
    // (A JSON string as the whole body never reaches the function: functions-framework's body
    // parser answers 400 itself. Eventarc never sends one.)
    ['data is an array', async () => raw({}, { data: [] })],
    ['data is null', async () => raw({}, { data: null })],
    ['message is an array', async () => raw({}, { data: { message: [] } })],
    [
      'bad base64 (symbols)',
      async () => raw({ data: '%%%', attributes: { eventType: 'SECRET_ROTATE' } }),
    ],
    [
      'bad base64 (length)',
      async () => raw({ data: 'abcde', attributes: { eventType: 'SECRET_ROTATE' } }),
    ],
    [
      'base64 with spaces inside',
      async () => raw({ data: 'ab cd!', attributes: { eventType: 'SECRET_ROTATE' } }),
    ],
    ['data is a number', async () => raw({ data: 42, attributes: { eventType: 'SECRET_ROTATE' } })],
    ['attributes is a string', async () => raw({ data: b64('{}'), attributes: 'SECRET_ROTATE' })],
    [
      'attribute value is a number',
      async () => raw({ data: b64('{}'), attributes: { eventType: 7 } }),
    ],
    ['no attributes', async () => raw({ data: b64('{}') })],
    ['empty eventType', async () => raw({ data: b64('{}'), attributes: { eventType: '' } })],
    [
      'SECRET_ROTATE without secretId',
      async () => raw({ data: b64('{}'), attributes: { eventType: 'SECRET_ROTATE' } }),
    ],
    ...hostileNames.map((n): [string, () => Promise<Record<string, unknown>>] => [
      `SECRET_ROTATE with secret id ${JSON.stringify(n.slice(0, 20))}`,
      async () => rotate(`projects/${PROJECT}/secrets/${n}`),
    ]),
    ['secretId not a secret name', async () => rotate(`projects/${PROJECT}/topics/x`)],
    ['secretId of a version', async () => rotate(`projects/${PROJECT}/secrets/x/versions/1`)],
    [
      'on-demand body not JSON',
      async () =>
        raw({ data: b64('rotate now!'), attributes: { eventType: 'ROTATION_REQUESTED' } }),
    ],
    [
      'on-demand body is JSON null',
      async () => raw({ data: b64('null'), attributes: { eventType: 'ROTATION_REQUESTED' } }),
    ],
    [
      'on-demand body is an array',
      async () => raw({ data: b64('[]'), attributes: { eventType: 'ROTATION_REQUESTED' } }),
    ],
    [
      'on-demand secret is a number',
      async () =>
        raw({ data: b64('{"secret":5}'), attributes: { eventType: 'ROTATION_REQUESTED' } }),
    ],
    [
      'on-demand reason is an object',
      async () =>
        pubsubCloudEvent(onDemandRequest(`projects/${PROJECT}/secrets/x`, { reason: { a: 1 } })),
    ],
    [
      'on-demand requestId with spaces',
      async () =>
        pubsubCloudEvent(onDemandRequest(`projects/${PROJECT}/secrets/x`, { requestId: 'a b' })),
    ],
    [
      'on-demand reason too long',
      async () =>
        pubsubCloudEvent(
          onDemandRequest(`projects/${PROJECT}/secrets/x`, { reason: 'r'.repeat(600) }),
        ),
    ],
    ...hostileNames
      .slice(0, 5)
      .map((n): [string, () => Promise<Record<string, unknown>>] => [
        `on-demand for secret ${JSON.stringify(n.slice(0, 20))}`,
        async () => pubsubCloudEvent(onDemandRequest(`projects/${PROJECT}/secrets/${n}`)),
      ]),
    [
      'on-demand body and attribute disagree',
      async () =>
        raw({
          data: b64(JSON.stringify({ secret: `projects/${PROJECT}/secrets/a` })),
          attributes: {
            eventType: 'ROTATION_REQUESTED',
            secretId: `projects/${PROJECT}/secrets/b`,
          },
        }),
    ],
    [
      'unknown secret (SECRET_ROTATE)',
      async () => rotate(`projects/${PROJECT}/secrets/does-not-exist-${suffix}`),
    ],
    [
      'unknown secret (on-demand)',
      async () => pubsubCloudEvent(onDemandRequest(`projects/${PROJECT}/secrets/nope-${suffix}`)),
    ],
    ['unknown project', async () => rotate('projects/another-project/secrets/db')],
    ['a secret that is not managed', async () => rotate(await plainSecret({}))],
    [
      'invalid engine in config',
      async () =>
        rotate(
          await plainSecret({
            [CONFIG_KEYS.engine]: 'oracle',
            [CONFIG_KEYS.strategy]: 'single-user',
            [CONFIG_KEYS.adminSecret]: 'self',
          }),
        ),
    ],
    [
      'missing strategy',
      async () =>
        rotate(
          await plainSecret({
            [CONFIG_KEYS.engine]: 'postgres',
            [CONFIG_KEYS.adminSecret]: 'self',
          }),
        ),
    ],
    [
      'dual-password on postgres',
      async () =>
        rotate(
          await plainSecret({
            [CONFIG_KEYS.engine]: 'postgres',
            [CONFIG_KEYS.strategy]: 'dual-password',
            [CONFIG_KEYS.adminSecret]: `projects/${PROJECT}/secrets/admin-postgres`,
          }),
        ),
    ],
    [
      'consumers not JSON',
      async () => rotate(await plainSecret({ ...validConfig(), [CONFIG_KEYS.consumers]: '{oops' })),
    ],
    [
      'grace period nonsense',
      async () =>
        rotate(await plainSecret({ ...validConfig(), [CONFIG_KEYS.gracePeriod]: 'forever' })),
    ],
    [
      'admin secret that does not exist',
      async () =>
        rotate(
          await plainSecret(
            {
              ...validConfig(),
              [CONFIG_KEYS.adminSecret]: `projects/${PROJECT}/secrets/missing-admin-${suffix}`,
            },
            goodPayload(),
          ),
        ),
    ],
    [
      'admin secret for another server',
      async () =>
        rotate(
          await plainSecret(
            { ...validConfig(), [CONFIG_KEYS.adminSecret]: await otherServerAdmin() },
            goodPayload(),
          ),
        ),
    ],
    ['managed secret without versions', async () => rotate(await plainSecret(validConfig()))],
    [
      'payload not JSON',
      async () => rotate(await plainSecret(validConfig(), 'host=db password=x')),
    ],
    [
      'payload missing password',
      async () =>
        rotate(await plainSecret(validConfig(), { ...goodPayload(), password: undefined })),
    ],
    [
      'payload with host and cloudSqlInstance',
      async () =>
        rotate(await plainSecret(validConfig(), { ...goodPayload(), cloudSqlInstance: 'p:r:i' })),
    ],
    [
      'payload port out of range',
      async () => rotate(await plainSecret(validConfig(), { ...goodPayload(), port: 70000 })),
    ],
    ...hostileNames
      .slice(0, 4)
      .map((n): [string, () => Promise<Record<string, unknown>>] => [
        `payload username ${JSON.stringify(n.slice(0, 20))}`,
        async () => rotate(await plainSecret(validConfig(), { ...goodPayload(), username: n })),
      ]),
    ...hostileNames
      .slice(0, 3)
      .map((n): [string, () => Promise<Record<string, unknown>>] => [
        `payload database ${JSON.stringify(n.slice(0, 20))}`,
        async () => rotate(await plainSecret(validConfig(), { ...goodPayload(), database: n })),
      ]),
  ];

  function validConfig(): Record<string, string> {
    return {
      [CONFIG_KEYS.engine]: 'postgres',
      [CONFIG_KEYS.strategy]: 'single-user',
      [CONFIG_KEYS.adminSecret]: `projects/${PROJECT}/secrets/admin-postgres`,
    };
  }
  function goodPayload(): Record<string, unknown> {
    const pg = h.databases.postgres;
    return {
      host: pg.host,
      port: pg.port,
      database: 'postgres',
      username: 'nobody',
      password: 'Not-A-Real-One-123',
    };
  }
  async function plainSecret(
    annotations: Record<string, string>,
    payload?: unknown,
  ): Promise<string> {
    const id = `plain-${randomBytes(4).toString('hex')}`;
    await h.client.createSecret({
      parent: `projects/${PROJECT}`,
      secretId: id,
      secret: { replication: { automatic: {} }, annotations },
    });
    const name = `projects/${PROJECT}/secrets/${id}`;
    if (payload !== undefined) {
      await h.client.addSecretVersion({
        parent: name,
        payload: {
          data: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
        },
      });
    }
    return name;
  }
  async function otherServerAdmin(): Promise<string> {
    const id = `other-admin-${randomBytes(3).toString('hex')}`;
    await h.client.createSecret({
      parent: `projects/${PROJECT}`,
      secretId: id,
      secret: { replication: { automatic: {} } },
    });
    const name = `projects/${PROJECT}/secrets/${id}`;
    await h.addVersion(name, {
      host: 'db.elsewhere.example',
      port: 5432,
      database: 'postgres',
      username: 'root',
      password: 'Elsewhere-123',
    });
    return name;
  }

  beforeAll(async () => {
    // The admin secret the valid configs point at exists (created by the harness on first use).
    await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
  });

  it('covers at least 50 malformed or hostile events', () => {
    expect(events.length).toBeGreaterThanOrEqual(50);
  });

  it.each(events)('%s', async (_name, build) => {
    const event = await build();
    const before = stdout.lines.length;
    const res = await postCloudEvent(url, event);
    expect(res.status).toBe(204);
    const written = stdout.lines.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({
      severity: expect.stringMatching(/^(DEBUG|WARNING|ERROR)$/),
      event: expect.stringMatching(/^event\.(invalid|rejected|ignored)$/),
    });
  });

  it('is still serving after all of them', async () => {
    const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    expect(
      (
        await postCloudEvent(
          url,
          pubsubCloudEvent(secretNotification('SECRET_ROTATE', secret.name)),
        )
      ).status,
    ).toBe(204);
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
  });

  it('acknowledges the notifications its own writes cause, with a debug line', async () => {
    const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    for (const type of [
      'SECRET_VERSION_ADD',
      'SECRET_UPDATE',
      'SECRET_VERSION_DISABLE',
      'SECRET_VERSION_DESTROY',
    ]) {
      const before = stdout.lines.length;
      expect(
        (await postCloudEvent(url, pubsubCloudEvent(secretNotification(type, secret.name)))).status,
      ).toBe(204);
      const written = stdout.lines
        .slice(before)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(written).toEqual([
        expect.objectContaining({ severity: 'DEBUG', event: 'event.ignored', eventType: type }),
      ]);
    }
    expect((await h.store.listVersions(secret.name)).length).toBe(1);
  });
});
