import { status } from '@grpc/grpc-js';
import {
  AUTOMATIC,
  failure,
  type ManualClock,
  manualClock,
  nameOf,
  type Rig,
  startRig,
} from './harness';

describe('SM emulator: injected faults', () => {
  let rig: Rig;
  let n = 0;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(() => rig.stop());
  afterEach(() => rig.emulator.faults.clear());

  const secret = async () => {
    const [s] = await rig.client.createSecret({
      parent: 'projects/p',
      secretId: `faults-${n++}`,
      secret: { replication: AUTOMATIC },
    });
    return nameOf(s);
  };
  const versionCount = async (name: string) =>
    (await rig.client.listSecretVersions({ parent: name }))[0].length;

  it('fails the next call of one method with UNAVAILABLE, before anything happened', async () => {
    const name = await secret();
    rig.emulator.faults.failNext('addSecretVersion');
    expect(
      await failure(
        rig.client.addSecretVersion({ parent: name, payload: { data: Buffer.from('x') } }),
      ),
    ).toEqual({ code: status.UNAVAILABLE, details: 'The service is currently unavailable.' });
    expect(await versionCount(name)).toBe(0);
    await rig.client.addSecretVersion({ parent: name, payload: { data: Buffer.from('x') } });
    expect(await versionCount(name)).toBe(1);
  });

  it('fails a given number of calls, leaving other methods alone', async () => {
    const name = await secret();
    rig.emulator.faults.failNext('getSecret', { count: 2 });
    expect(rig.emulator.faults.remaining).toBe(2);
    await rig.client.listSecretVersions({ parent: name });
    expect((await failure(rig.client.getSecret({ name }))).code).toBe(status.UNAVAILABLE);
    expect((await failure(rig.client.getSecret({ name }))).code).toBe(status.UNAVAILABLE);
    const [s] = await rig.client.getSecret({ name });
    expect(s.name).toBe(name);
    expect(rig.emulator.faults.remaining).toBe(0);
  });

  it('can fail after the change committed, as when a response is lost', async () => {
    const name = await secret();
    rig.emulator.faults.failNext('addSecretVersion', { afterCommit: true });
    expect(
      (
        await failure(
          rig.client.addSecretVersion({ parent: name, payload: { data: Buffer.from('x') } }),
        )
      ).code,
    ).toBe(status.UNAVAILABLE);
    // The version exists although the caller saw an error: a blind retry would add a duplicate.
    expect(await versionCount(name)).toBe(1);
  });

  it('takes any code, and * for every method', async () => {
    const name = await secret();
    rig.emulator.faults.failNext('*', { code: status.INTERNAL, message: 'boom' });
    expect(await failure(rig.client.getSecret({ name }))).toEqual({
      code: status.INTERNAL,
      details: 'boom',
    });
    const [s] = await rig.client.getSecret({ name });
    expect(s.name).toBe(name);
  });

  it('refuses an unknown method name', () => {
    expect(() => rig.emulator.faults.failNext('readSecret' as never)).toThrow(
      'unknown Secret Manager method',
    );
  });
});

describe('SM emulator: eventual consistency of alias and latest reads', () => {
  const DELAY = 60_000;
  let rig: Rig;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = manualClock();
    rig = await startRig({ clock, aliasReadDelayMs: DELAY });
  });
  afterAll(() => rig.stop());

  const read = async (name: string) => {
    const [r] = await rig.client.accessSecretVersion({ name });
    return r.payload?.data?.toString();
  };

  it('serves alias and latest reads from the state as it was aliasReadDelayMs ago; numbers at once', async () => {
    const [s] = await rig.client.createSecret({
      parent: 'projects/p',
      secretId: 'lagging',
      secret: { replication: AUTOMATIC },
    });
    await rig.client.addSecretVersion({ parent: s.name, payload: { data: Buffer.from('v1') } });
    await rig.client.updateSecret({
      secret: { name: s.name, versionAliases: { current: 1 } },
      updateMask: { paths: ['version_aliases'] },
    });
    // Too new to be seen through pointers yet.
    expect(
      (await failure(rig.client.accessSecretVersion({ name: `${s.name}/versions/latest` }))).code,
    ).toBe(status.NOT_FOUND);
    expect(await read(`${s.name}/versions/1`)).toBe('v1');

    clock.advance(DELAY);
    expect(await read(`${s.name}/versions/current`)).toBe('v1');

    await rig.client.addSecretVersion({ parent: s.name, payload: { data: Buffer.from('v2') } });
    const [moved] = await rig.client.updateSecret({
      secret: { name: s.name, versionAliases: { current: 2, previous: 1 } },
      updateMask: { paths: ['version_aliases'] },
    });
    expect(moved.versionAliases).toEqual({ current: '2', previous: '1' });
    expect(await read(`${s.name}/versions/2`)).toBe('v2');
    expect(await read(`${s.name}/versions/current`)).toBe('v1');
    expect(await read(`${s.name}/versions/latest`)).toBe('v1');
    expect(
      (await failure(rig.client.accessSecretVersion({ name: `${s.name}/versions/previous` }))).code,
    ).toBe(status.NOT_FOUND);

    clock.advance(DELAY - 1);
    expect(await read(`${s.name}/versions/current`)).toBe('v1');
    clock.advance(1);
    expect(await read(`${s.name}/versions/current`)).toBe('v2');
    expect(await read(`${s.name}/versions/latest`)).toBe('v2');
    expect(await read(`${s.name}/versions/previous`)).toBe('v1');
  });

  it('reads the state of the version now: a disabled version fails through a lagging alias too', async () => {
    const [s] = await rig.client.createSecret({
      parent: 'projects/p',
      secretId: 'lagging-disabled',
      secret: { replication: AUTOMATIC },
    });
    await rig.client.addSecretVersion({ parent: s.name, payload: { data: Buffer.from('v1') } });
    clock.advance(DELAY);
    await rig.client.disableSecretVersion({ name: `${s.name}/versions/1` });
    expect(
      await failure(rig.client.accessSecretVersion({ name: `${s.name}/versions/latest` })),
    ).toEqual({
      code: status.FAILED_PRECONDITION,
      details: `Secret Version [${s.name}/versions/1] is in DISABLED state.`,
    });
  });
});
