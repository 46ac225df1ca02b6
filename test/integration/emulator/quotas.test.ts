import { status } from '@grpc/grpc-js';
import { AUTOMATIC, failure, type ManualClock, manualClock, type Rig, startRig } from './harness';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const data = (s: string) => ({ data: Buffer.from(s) });
const refusal = (metric: string, limit: string, project: string) => ({
  code: status.RESOURCE_EXHAUSTED,
  details: `Quota exceeded for quota metric '${metric}' and limit '${limit}' of service 'secretmanager.googleapis.com' for consumer 'project_number:${project}'.`,
});

describe('SM emulator: quotas', () => {
  let clock: ManualClock;
  let rig: Rig;
  let n = 0;
  const create = async (parent = 'projects/q', extra: Record<string, unknown> = {}) => {
    const [s] = await rig.client.createSecret({
      parent,
      secretId: `quota-${n++}`,
      secret: parent.includes('/locations/') ? extra : { replication: AUTOMATIC, ...extra },
    });
    return s.name ?? '';
  };
  /** A fresh project per test: the project quotas of one test do not reach the next. */
  let project: string;
  beforeEach(async () => {
    clock = manualClock();
    // Production's per-project figures are checked in test/unit/emulator/quotas.test.ts; here
    // smaller ones keep the wire test short.
    rig = await startRig({ clock, quotas: { readPerMinute: 30, writePerMinute: 20 } });
    project = `projects/q${n++}`;
  });
  afterEach(() => rig.stop());

  it('are off by default', async () => {
    const plain = await startRig({ clock: manualClock() });
    try {
      const [s] = await plain.client.createSecret({
        parent: 'projects/p',
        secretId: 'burst',
        secret: { replication: AUTOMATIC },
      });
      for (let i = 0; i < 5; i++) {
        await plain.client.addSecretVersion({ parent: s.name, payload: data(`v${i}`) });
      }
      expect(plain.emulator.quotaRefusals).toBe(0);
    } finally {
      await plain.stop();
    }
  });

  it('allow the read requests per minute per project, then refuse with Google wording', async () => {
    const name = await create(project);
    const reads = [
      () => rig.client.getSecret({ name }),
      () => rig.client.listSecretVersions({ parent: name }),
      () => rig.client.listSecrets({ parent: project }),
    ];
    for (let i = 0; i < 30; i++) await (reads[i % 3] as () => Promise<unknown>)();
    expect(await failure(rig.client.getSecret({ name }))).toEqual(
      refusal('Read requests', 'Read requests per minute', project.split('/')[1] ?? ''),
    );
    // Other kinds and other projects have their own quota.
    await rig.client.addSecretVersion({ parent: name, payload: data('w') });
    await rig.client.getSecret({ name: await create('projects/other') });
    // The window slides: half a minute later the burst still fills it; a minute later it is gone.
    clock.advance(30 * SECOND);
    expect((await failure(rig.client.getSecret({ name }))).code).toBe(status.RESOURCE_EXHAUSTED);
    clock.advance(30 * SECOND);
    await rig.client.getSecret({ name });
    expect(rig.emulator.quotaRefusals).toBe(2);
  });

  it('allow the write requests per minute per project; a refused write changes nothing', async () => {
    // 10 secrets × (create + add) = 20 writes, within each secret's own rate.
    const names: string[] = [];
    for (let i = 0; i < 10; i++) names.push(await create(project));
    for (const name of names)
      await rig.client.addSecretVersion({ parent: name, payload: data('x') });
    const first = names[0] ?? '';
    expect(
      await failure(rig.client.addSecretVersion({ parent: first, payload: data('y') })),
    ).toEqual(refusal('Write requests', 'Write requests per minute', project.split('/')[1] ?? ''));
    expect(await failure(create(project))).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    clock.advance(MINUTE);
    const [versions] = await rig.client.listSecretVersions({ parent: first });
    expect(versions).toHaveLength(1);
  });

  it('count AccessSecretVersion against the access quota only', async () => {
    await rig.stop();
    rig = await startRig({ clock, quotas: { accessPerMinute: 3 } });
    const name = await create(project);
    await rig.client.addSecretVersion({ parent: name, payload: data('pw') });
    for (let i = 0; i < 3; i++)
      await rig.client.accessSecretVersion({ name: `${name}/versions/1` });
    // The official client retries AccessSecretVersion on RESOURCE_EXHAUSTED: ask it not to.
    const refused = await failure(
      rig.client.accessSecretVersion({ name: `${name}/versions/1` }, { retry: null }),
    );
    expect(refused).toEqual(
      refusal('Access requests', 'Access requests per minute', project.split('/')[1] ?? ''),
    );
    await rig.client.getSecret({ name });
  });

  it('hold a global secret to 2 AddSecretVersion + UpdateSecret per second', async () => {
    const name = await create(project);
    const bump = () =>
      rig.client.updateSecret({
        secret: { name, labels: { at: String(clock.now()) } },
        updateMask: { paths: ['labels'] },
      });
    await rig.client.addSecretVersion({ parent: name, payload: data('1') });
    await bump();
    const m = 'AddSecretVersion and UpdateSecret requests per secret';
    expect(await failure(bump())).toEqual(
      refusal(m, `${m} per second`, project.split('/')[1] ?? ''),
    );
    // Another secret is not affected; a second later this one takes two more.
    await rig.client.addSecretVersion({ parent: await create(project), payload: data('x') });
    clock.advance(SECOND);
    await bump();
    await rig.client.addSecretVersion({ parent: name, payload: data('2') });
  });

  it('hold a version to 1 enable/disable/destroy per second', async () => {
    const name = await create(project);
    await rig.client.addSecretVersion({ parent: name, payload: data('1') });
    await rig.client.disableSecretVersion({ name: `${name}/versions/1` });
    expect(
      (await failure(rig.client.enableSecretVersion({ name: `${name}/versions/1` }))).details,
    ).toMatch(/per secret version per second'/);
    clock.advance(SECOND);
    await rig.client.enableSecretVersion({ name: `${name}/versions/1` });
  });

  it('scale the minute: a 6 s minute has 100 ms seconds', async () => {
    await rig.stop();
    rig = await startRig({ clock, quotas: { minuteMs: 6000 } });
    const name = await create(project);
    await rig.client.addSecretVersion({ parent: name, payload: data('1') });
    await rig.client.addSecretVersion({ parent: name, payload: data('2') });
    expect(
      (await failure(rig.client.addSecretVersion({ parent: name, payload: data('3') }))).code,
    ).toBe(status.RESOURCE_EXHAUSTED);
    clock.advance(100);
    await rig.client.addSecretVersion({ parent: name, payload: data('3') });
  });

  it('count every request that arrives, by kind and method, refused ones included', async () => {
    const name = await create(project);
    const { calls } = await rig.emulator.calls.during(async () => {
      await rig.client.addSecretVersion({ parent: name, payload: data('1') });
      await rig.client.getSecret({ name });
      await rig.client.accessSecretVersion({ name: `${name}/versions/1` });
      await rig.client.addSecretVersion({ parent: name, payload: data('2') });
      await failure(rig.client.addSecretVersion({ parent: name, payload: data('3') }));
    });
    expect(calls).toEqual({
      read: 1,
      write: 3,
      access: 1,
      byMethod: { addSecretVersion: 3, getSecret: 1, accessSecretVersion: 1 },
    });
  });
});
