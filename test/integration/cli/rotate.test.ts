import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import { EXIT } from '../../../cli/exit-codes';
import { productionCliDeps } from '../../../cli/production-deps';
import { CONFIG_KEYS } from '../../../shared/config/annotations';
import {
  classifyMessage,
  OnDemandRequestBodySchema,
} from '../../../shared/events/rotation-request';
import { handleRotationRequest, rotationIdFor } from '../../../shared/rotation/rotator';
import { readHistory } from '../../../shared/rotation/state';
import {
  createRotationHarness,
  type ManagedSecret,
  PROJECT,
  type RotationHarness,
} from '../../support/rotation-harness';
import { cliRunner, json, localPubSub } from './cli-runner';

/**
 * `rotate` through the official Pub/Sub client (the CLI's production publisher) against the local Pub/Sub (PUBSUB_EMULATOR_HOST,
 * set by global setup), read back from a subscription; `--wait` with the rotation driven by the
 * test the way rotateSecret would drive it when the message arrives.
 */
let h: RotationHarness;
let cli: ReturnType<typeof cliRunner>;
let pubsub: PubSub;
const TOPIC = `cli-secret-events-${process.pid}`;
const topicName = `projects/${PROJECT}/topics/${TOPIC}`;
let subscription: Subscription;
const received: Message[] = [];

const shortId = (s: ManagedSecret) => s.name.split('/').pop() as string;

beforeAll(async () => {
  h = await createRotationHarness();
  pubsub = localPubSub();
  const [topic] = await pubsub.createTopic(TOPIC);
  [subscription] = await topic.createSubscription(`${TOPIC}-sub`);
  subscription.on('message', (m: Message) => {
    m.ack();
    received.push(m);
  });
  // The CLI's production publisher, configured from the environment as the installed bin is.
  const production = productionCliDeps({ PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST });
  cli = cliRunner(h, { publish: production.publish });
});

afterAll(async () => {
  h.assertNoPasswordInLogs();
  await subscription.close();
  await pubsub.close();
  await h.stop();
});

async function nextMessage(count: number, timeoutMs = 10_000): Promise<Message> {
  const deadline = Date.now() + timeoutMs;
  while (received.length < count) {
    if (Date.now() > deadline) throw new Error('no message arrived on the subscription');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return received[count - 1] as Message;
}

/** What rotateSecret does with a message from the topic. */
async function deliver(m: Message) {
  const classified = classifyMessage(
    {
      eventId: m.id,
      messageId: m.id,
      publishTime: m.publishTime.getTime(),
      attributes: m.attributes,
      body: m.data.toString('utf8'),
    },
    Date.now(),
  );
  if (classified.kind !== 'rotate') throw new Error('not a rotation request');
  return handleRotationRequest(classified.request, h.deps);
}

describe('gsm-rotator rotate', () => {
  it('publishes a valid on-demand request and prints its request and rotation ids', async () => {
    // Prepare
    const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    const before = received.length;
    // Act
    const r = await cli.run([
      'rotate',
      shortId(secret),
      '--reason',
      'suspected leak',
      '--requested-by',
      'alice@example.com',
      '--topic',
      TOPIC,
    ]);
    // Assess
    expect(r.code).toBe(EXIT.ok);
    const requestId = /request id: +(\S+)/.exec(r.stdout)?.[1] as string;
    const rotationId = /rotation id: +(\S+)/.exec(r.stdout)?.[1];
    expect(rotationId).toBe(rotationIdFor(secret.name, `on-demand:${requestId}`));
    expect(r.stdout).toContain(`topic:       ${topicName}`);
    const m = await nextMessage(before + 1);
    expect(m.attributes).toEqual({ eventType: 'ROTATION_REQUESTED', secretId: secret.name });
    expect(OnDemandRequestBodySchema.parse(JSON.parse(m.data.toString()))).toEqual({
      secret: secret.name,
      reason: 'suspected leak',
      requestedBy: 'alice@example.com',
      requestId,
    });
    // Nothing rotated by publishing alone.
    expect((await h.store.listVersions(secret.name)).length).toBe(1);
  });

  it('publishes, without --topic, to the topic the secret notifies (where rotateSecret listens)', async () => {
    // Prepare: as terraform configures a managed secret, with the pipeline's secret-events topic.
    const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    await h.client.updateSecret({
      secret: { name: secret.name, topics: [{ name: topicName }] },
      updateMask: { paths: ['topics'] },
    });
    const before = received.length;
    // Act
    const r = await cli.run(['rotate', shortId(secret)]);
    // Assess
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toContain(`topic:       ${topicName}`);
    expect((await nextMessage(before + 1)).attributes.secretId).toBe(secret.name);
  });

  it('asks for --topic when the secret notifies several topics and none is secret-events', async () => {
    const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    await h.client.updateSecret({
      secret: {
        name: secret.name,
        topics: [
          { name: `projects/${PROJECT}/topics/audit-a` },
          { name: `projects/${PROJECT}/topics/audit-b` },
        ],
      },
      updateMask: { paths: ['topics'] },
    });
    const r = await cli.run(['rotate', shortId(secret)]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toBe(
      `error: ${secret.name} notifies several topics (projects/${PROJECT}/topics/audit-a, projects/${PROJECT}/topics/audit-b): pass --topic\n`,
    );
  });

  it('--wait follows the rotation to success (exit 0), with the id the function uses', async () => {
    // Prepare
    const secret = await h.createManagedSecret({
      engine: 'mariadb',
      strategy: 'alternating-users',
    });
    const before = received.length;
    const driven = nextMessage(before + 1).then(deliver);
    // Act
    const r = await cli.run(
      ['rotate', secret.name, '--wait', '--timeout', '60s', '--topic', topicName, '--json'],
      { env: { USER: 'bob' } },
    );
    // Assess
    const result = await driven;
    expect(r.code).toBe(EXIT.ok);
    const doc = json(r);
    expect(result).toMatchObject({ action: 'completed', rotationId: doc.rotationId, version: 2 });
    expect(doc).toEqual({
      secret: secret.name,
      topic: topicName,
      requestId: expect.stringMatching(/^cli-test-/),
      rotationId: expect.stringMatching(/^rot-/),
      outcome: expect.objectContaining({
        id: doc.rotationId,
        outcome: 'succeeded',
        trigger: 'on-demand',
        requestedBy: 'bob',
        fromVersion: 1,
        toVersion: 2,
      }),
    });
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
  });

  it('--wait on a merged request reports the rotation that answered it and exits 0', async () => {
    // Prepare: an earlier request (a Ctrl-C'd `rotate --wait`) whose delivery was delayed starts
    // its rotation only after this request was published; this one then finds it answered.
    const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    const driven = nextMessage(received.length + 1).then(async (m) => {
      const earlier = await handleRotationRequest(
        {
          secret: secret.name,
          trigger: 'on-demand',
          requestKey: `on-demand:earlier-${m.id}`,
          requestedAt: m.publishTime.getTime() - 5_000,
        },
        h.deps,
      );
      return { earlier, mine: await deliver(m) };
    });
    // Act
    const r = await cli.run([
      'rotate',
      secret.name,
      '--wait',
      '--timeout',
      '60s',
      '--topic',
      topicName,
      '--json',
    ]);
    // Assess: the CLI answers with the earlier request's rotation, at once, exit 0; the function
    // logged which rotation satisfied the request.
    const { earlier, mine } = await driven;
    expect(mine).toEqual({ action: 'stale' });
    expect(earlier).toMatchObject({ action: 'completed' });
    const rotationId = (earlier as { rotationId: string }).rotationId;
    expect(r.code).toBe(EXIT.ok);
    const doc = json(r);
    expect(doc.rotationId).not.toBe(rotationId);
    expect(doc.outcome).toMatchObject({ id: rotationId, outcome: 'succeeded' });
    const merged = h.sink.entries().filter((e) => e.event === 'rotation.merged');
    expect(merged.some((e) => e.satisfiedBy === rotationId)).toBe(true);
  });

  it('--wait reports a failed rotation with exit 1', async () => {
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'single-user',
      annotations: { [CONFIG_KEYS.testQuery]: 'SELECT * FROM no_such_table_here' },
    });
    const driven = nextMessage(received.length + 1).then(deliver);
    const r = await cli.run(['rotate', shortId(secret), '--wait', '--topic', TOPIC]);
    await driven;
    expect(r.code).toBe(EXIT.notOk);
    expect(r.stdout).toMatch(
      /\nrotation rot-\w+ FAILED after 1 attempt\(s\): .*no_such_table_here.*\n$/,
    );
    expect(r.stderr).toMatch(/ {2}… step /);
    expect(readHistory((await h.store.getSecret(secret.name)).annotations)[0]?.outcome).toBe(
      'failed',
    );
  });

  it('--wait gives up with exit 4 when nothing runs the rotation', async () => {
    const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    const before = received.length;
    const r = await cli.run([
      'rotate',
      shortId(secret),
      '--wait',
      '--timeout',
      '1s',
      '--topic',
      TOPIC,
    ]);
    expect(r.code).toBe(EXIT.transient);
    expect(r.stderr).toMatch(
      /^error: timed out after 1\.0s waiting for rotation rot-\w+ \(not started yet\); it may still complete: see history\n$/,
    );
    // The request is out there: a late delivery still rotates.
    await expect(deliver(await nextMessage(before + 1))).resolves.toMatchObject({
      action: 'completed',
    });
  });

  it('refuses unknown and unmanaged secrets without publishing (exit 3)', async () => {
    const before = received.length;
    await h.client.createSecret({
      parent: `projects/${PROJECT}`,
      secretId: 'not-managed',
      secret: { replication: { automatic: {} } },
    });
    const unknown = await cli.run(['rotate', 'nope', '--topic', TOPIC]);
    const unmanaged = await cli.run(['rotate', 'not-managed', '--topic', TOPIC]);
    expect(unknown.code).toBe(EXIT.notFound);
    expect(unknown.stderr).toBe(`error: secret not found: projects/${PROJECT}/secrets/nope\n`);
    expect(unmanaged.code).toBe(EXIT.notFound);
    expect(unmanaged.stderr).toContain('is not managed by gsm-rotator');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received.length).toBe(before);
  });

  it('exits 4 when the topic does not exist', async () => {
    const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    const r = await cli.run(['rotate', shortId(secret), '--topic', 'no-such-topic']);
    expect(r.code).toBe(EXIT.transient);
    expect(r.stderr).toMatch(
      new RegExp(
        `^error: publish to projects/${PROJECT}/topics/no-such-topic failed: .*(NOT_FOUND|not found).*\\(transient: try again\\)\\n$`,
        'i',
      ),
    );
  });
});
