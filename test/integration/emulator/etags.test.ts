import { status } from '@grpc/grpc-js';
import { AUTOMATIC, failure, type Rig, startRig } from './harness';

const STALE =
  "The etag provided in the request does not match the resource's current etag. Please retry the whole read-modify-write with exponential backoff.";

describe('SM emulator: etags', () => {
  let rig: Rig;
  let n = 0;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(() => rig.stop());

  const secret = async () => {
    const [s] = await rig.client.createSecret({
      parent: 'projects/p',
      secretId: `etag-${n++}`,
      secret: { replication: AUTOMATIC },
    });
    return s;
  };

  it('changes the etag on every update, a no-op and an empty mask included', async () => {
    const s = await secret();
    const [a] = await rig.client.updateSecret({
      secret: { name: s.name, labels: {} },
      updateMask: { paths: ['labels'] },
    });
    const [b] = await rig.client.updateSecret({
      secret: { name: s.name },
      updateMask: { paths: [] },
    });
    expect(new Set([s.etag, a.etag, b.etag]).size).toBe(3);
  });

  it('compare-and-swap: the current etag wins, a stale one is FAILED_PRECONDITION and changes nothing', async () => {
    const s = await secret();
    const [u] = await rig.client.updateSecret({
      secret: { name: s.name, labels: { step: 'one' }, etag: s.etag },
      updateMask: { paths: ['labels'] },
    });
    expect(
      await failure(
        rig.client.updateSecret({
          secret: { name: s.name, labels: { step: 'two' }, etag: s.etag },
          updateMask: { paths: ['labels'] },
        }),
      ),
    ).toEqual({ code: status.FAILED_PRECONDITION, details: STALE });
    const [now] = await rig.client.getSecret({ name: s.name });
    expect(now.labels).toEqual({ step: 'one' });
    expect(now.etag).toBe(u.etag);
  });

  it('takes an empty etag as no condition', async () => {
    const s = await secret();
    const [u] = await rig.client.updateSecret({
      secret: { name: s.name, labels: { a: 'b' }, etag: '' },
      updateMask: { paths: ['labels'] },
    });
    expect(u.labels).toEqual({ a: 'b' });
  });

  it('guards delete with the etag', async () => {
    const s = await secret();
    await rig.client.updateSecret({ secret: { name: s.name }, updateMask: { paths: [] } });
    expect(await failure(rig.client.deleteSecret({ name: s.name, etag: s.etag }))).toEqual({
      code: status.FAILED_PRECONDITION,
      details: STALE,
    });
    const [fresh] = await rig.client.getSecret({ name: s.name });
    await rig.client.deleteSecret({ name: s.name, etag: fresh.etag });
    expect((await failure(rig.client.getSecret({ name: s.name }))).code).toBe(status.NOT_FOUND);
  });

  it('gives versions their own etags: version changes leave the secret etag alone and vice versa', async () => {
    const s = await secret();
    const [v] = await rig.client.addSecretVersion({
      parent: s.name,
      payload: { data: Buffer.from('x') },
    });
    const [afterAdd] = await rig.client.getSecret({ name: s.name });
    expect(afterAdd.etag).toBe(s.etag);
    expect(v.etag).toMatch(/^"[0-9a-f]+"$/);

    const [disabled] = await rig.client.disableSecretVersion({ name: v.name, etag: v.etag });
    expect(disabled.etag).not.toBe(v.etag);
    const [afterDisable] = await rig.client.getSecret({ name: s.name });
    expect(afterDisable.etag).toBe(s.etag);

    for (const call of [
      rig.client.enableSecretVersion({ name: v.name, etag: v.etag }),
      rig.client.disableSecretVersion({ name: v.name, etag: v.etag }),
      rig.client.destroySecretVersion({ name: v.name, etag: v.etag }),
      rig.client.enableSecretVersion({ name: v.name, etag: s.etag }),
    ]) {
      expect(await failure(call)).toEqual({ code: status.FAILED_PRECONDITION, details: STALE });
    }
    const [enabled] = await rig.client.enableSecretVersion({ name: v.name, etag: disabled.etag });
    expect(enabled.state).toBe('ENABLED');

    await rig.client.updateSecret({ secret: { name: s.name }, updateMask: { paths: [] } });
    const [versionAfter] = await rig.client.getSecretVersion({ name: v.name });
    expect(versionAfter.etag).toBe(enabled.etag);
  });

  it('checks existence before the etag: NOT_FOUND wins', async () => {
    expect(
      (await failure(rig.client.deleteSecret({ name: 'projects/p/secrets/never', etag: '"1"' })))
        .code,
    ).toBe(status.NOT_FOUND);
  });
});
