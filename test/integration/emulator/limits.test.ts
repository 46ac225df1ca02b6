import { status } from '@grpc/grpc-js';
import { AUTOMATIC, failure, type Rig, startRig, TOPIC } from './harness';

describe('SM emulator: labels, annotations and topics limits', () => {
  let rig: Rig;
  let n = 0;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(() => rig.stop());

  const create = (secret: Record<string, unknown>) =>
    rig.client.createSecret({
      parent: 'projects/p',
      secretId: `limits-${n++}`,
      secret: { replication: AUTOMATIC, ...secret },
    });

  const refusal = async (secret: Record<string, unknown>) => failure(create(secret));

  it('takes 64 labels with 63-character keys and values, and international letters', async () => {
    const labels = Object.fromEntries(
      Array.from({ length: 64 }, (_, i) => [`k${i}`.padEnd(63, 'x'), 'v'.repeat(63)]),
    );
    const [s] = await create({ labels });
    expect(Object.keys(s.labels ?? {})).toHaveLength(64);
    const [intl] = await create({ labels: { équipe: 'données', 'k-1_x': '', a: '1abc' } });
    expect(intl.labels).toEqual({ équipe: 'données', 'k-1_x': '', a: '1abc' });
  });

  it.each([
    [
      '65 labels',
      Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])),
      'at most 64 entries allowed but found 65',
    ],
    ['an uppercase key', { Abc: 'v' }, 'key "Abc" does not conform to regular expression'],
    ['a key starting with a digit', { '1abc': 'v' }, 'does not conform'],
    ['a 64-character key', { ['k'.repeat(64)]: 'v' }, 'exceeds maximum character length 63'],
    ['a dotted key', { 'a.b': 'v' }, 'does not conform'],
    ['an uppercase value', { a: 'ABC' }, 'Invalid field "labels.a"; value "ABC" does not conform'],
    ['a 64-character value', { a: 'v'.repeat(64) }, 'exceeds maximum value length 63'],
  ])('refuses %s: INVALID_ARGUMENT', async (_what, labels, message) => {
    const f = await refusal({ labels });
    expect(f.code).toBe(status.INVALID_ARGUMENT);
    expect(f.details).toContain(message);
  });

  it('takes annotations up to 16 KiB in all, and refuses one byte more', async () => {
    const [ok] = await create({ annotations: { big: 'x'.repeat(16 * 1024 - 3) } });
    expect(ok.annotations?.big).toHaveLength(16 * 1024 - 3);
    expect(await refusal({ annotations: { big: 'x'.repeat(16 * 1024 - 2) } })).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'Annotation map must not exceed 16kib.',
    });
  });

  it.each([
    ['-leading'],
    ['trailing.'],
    ['has space'],
    ['example.com/owner'],
    ['k'.repeat(64)],
    [''],
  ])('refuses the annotation key %j', async (key) => {
    const f = await refusal({ annotations: { [key]: 'v' } });
    expect(f.code).toBe(status.INVALID_ARGUMENT);
    expect(f.details).toContain('must follow pattern');
  });

  it('takes annotation keys with dots, dashes and underscores inside, and any value', async () => {
    const annotations = { 'rotator.state': '{"step":"set"}', Owner_1: 'line\nbreak', 'a-b': '' };
    const [s] = await create({ annotations });
    expect(s.annotations).toEqual(annotations);
  });

  it('takes 10 distinct full topic names and refuses 11, duplicates and short names', async () => {
    const topics = Array.from({ length: 10 }, (_, i) => ({ name: `${TOPIC}-${i}` }));
    const [s] = await create({ topics });
    expect(s.topics?.map((t) => t.name)).toEqual(topics.map((t) => t.name));
    expect(await refusal({ topics: [...topics, { name: `${TOPIC}-10` }] })).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'No more than 10 topics can be configured on a secret.',
    });
    expect(await refusal({ topics: [{ name: TOPIC }, { name: TOPIC }] })).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'Topics must have distinct names.',
    });
    expect(await refusal({ topics: [{ name: 'secret-events' }] })).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'Failed to Publish to topic [secret-events], got an error from Pub/Sub.',
    });
  });

  it('refuses a topic Pub/Sub does not have: NOT_FOUND', async () => {
    rig.emulator.notifications.markTopicMissing('projects/p/topics/missing');
    expect(await refusal({ topics: [{ name: 'projects/p/topics/missing' }] })).toEqual({
      code: status.NOT_FOUND,
      details: 'Topic [projects/p/topics/missing] not found.',
    });
  });

  it('judges an update on the whole result: labels replaced in full, limits still hold', async () => {
    const [s] = await create({ labels: { a: '1' } });
    const f = await failure(
      rig.client.updateSecret({
        secret: { name: s.name, labels: { Bad: 'x' } },
        updateMask: { paths: ['labels'] },
      }),
    );
    expect(f.code).toBe(status.INVALID_ARGUMENT);
    const [still] = await rig.client.getSecret({ name: s.name });
    expect(still.labels).toEqual({ a: '1' });
    expect(still.etag).toBe(s.etag);
  });
});
