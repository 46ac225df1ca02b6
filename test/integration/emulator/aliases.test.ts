import { status } from '@grpc/grpc-js';
import { AUTOMATIC, failure, nameOf, type Rig, startRig } from './harness';

describe('SM emulator: version aliases', () => {
  let rig: Rig;
  let name: string;
  beforeAll(async () => {
    rig = await startRig();
    const [s] = await rig.client.createSecret({
      parent: 'projects/p',
      secretId: 'aliased',
      secret: { replication: AUTOMATIC },
    });
    name = nameOf(s);
    for (const value of ['one', 'two', 'three']) {
      await rig.client.addSecretVersion({ parent: name, payload: { data: Buffer.from(value) } });
    }
  });
  afterAll(() => rig.stop());

  const setAliases = (versionAliases: Record<string, number | string>) =>
    rig.client.updateSecret({
      secret: { name, versionAliases },
      updateMask: { paths: ['version_aliases'] },
    });

  it('moves aliases with one update and reads versions through them', async () => {
    const [s] = await setAliases({ current: 2, previous: 1, Current: 3 });
    expect(s.versionAliases).toEqual({ current: '2', previous: '1', Current: '3' });
    const [current] = await rig.client.accessSecretVersion({ name: `${name}/versions/current` });
    expect(current.name).toBe(`${name}/versions/2`);
    expect(current.payload?.data?.toString()).toBe('two');
    const [got] = await rig.client.getSecretVersion({ name: `${name}/versions/Current` });
    expect(got.name).toBe(`${name}/versions/3`);
  });

  it('replaces the whole map: aliases left out are gone', async () => {
    await setAliases({ current: 2, previous: 1 });
    const [s] = await setAliases({ current: 3 });
    expect(s.versionAliases).toEqual({ current: '3' });
    expect(
      await failure(rig.client.accessSecretVersion({ name: `${name}/versions/previous` })),
    ).toEqual({
      code: status.NOT_FOUND,
      details: `Secret [${name}] has no alias [previous]`,
    });
  });

  it.each([['latest'], ['NEW'], ['1abc'], ['_x'], ['a.b'], ['a'.repeat(64)]])(
    'refuses the alias name %j',
    async (alias) => {
      const f = await failure(setAliases({ [alias]: 1 }));
      expect(f.code).toBe(status.INVALID_ARGUMENT);
      expect(f.details).toContain('must follow pattern');
    },
  );

  it('takes Latest and new, which production accepts (only exact latest and NEW are refused)', async () => {
    const [s] = await setAliases({ Latest: 1, new: 2 });
    expect(s.versionAliases).toEqual({ Latest: '1', new: '2' });
  });

  it('takes 50 aliases and refuses 51', async () => {
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`a${i}`, 1]));
    const [s] = await setAliases(fifty);
    expect(Object.keys(s.versionAliases ?? {})).toHaveLength(50);
    expect(await failure(setAliases({ ...fifty, a50: 1 }))).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'No more than 50 aliases can be assgined to any given secret',
    });
  });

  it('refuses an alias to a version that does not exist, also at create', async () => {
    expect(await failure(setAliases({ next: 4 }))).toEqual({
      code: status.INVALID_ARGUMENT,
      details: "Aliases cannot be assigned to versions that don't exist",
    });
    expect(await failure(setAliases({ zero: 0 }))).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(
      await failure(
        rig.client.createSecret({
          parent: 'projects/p',
          secretId: 'born-aliased',
          secret: { replication: AUTOMATIC, versionAliases: { current: 1 } },
        }),
      ),
    ).toEqual({
      code: status.INVALID_ARGUMENT,
      details: "Aliases cannot be assigned to versions that don't exist",
    });
  });

  it('lets an alias point at a destroyed version (as production), which then fails to read', async () => {
    const [s] = await rig.client.createSecret({
      parent: 'projects/p',
      secretId: 'alias-destroyed',
      secret: { replication: AUTOMATIC },
    });
    await rig.client.addSecretVersion({ parent: s.name, payload: { data: Buffer.from('x') } });
    await rig.client.destroySecretVersion({ name: `${s.name}/versions/1` });
    await rig.client.updateSecret({
      secret: { name: s.name, versionAliases: { old: 1 } },
      updateMask: { paths: ['version_aliases'] },
    });
    expect(
      await failure(rig.client.accessSecretVersion({ name: `${s.name}/versions/old` })),
    ).toEqual({
      code: status.FAILED_PRECONDITION,
      details: `Secret Version [${s.name}/versions/1] is in DESTROYED state.`,
    });
  });

  it('refuses enable, disable and destroy through an alias or latest', async () => {
    await setAliases({ current: 1 });
    for (const ref of ['current', 'latest']) {
      const f = await failure(rig.client.disableSecretVersion({ name: `${name}/versions/${ref}` }));
      expect(f.code).toBe(status.INVALID_ARGUMENT);
      expect(f.details).toContain('does not match the expected format');
    }
  });
});
