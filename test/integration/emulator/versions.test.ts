import { status } from '@grpc/grpc-js';
import {
  AUTOMATIC,
  failure,
  lastSegment,
  type ManualClock,
  manualClock,
  nameOf,
  type Rig,
  startRig,
} from './harness';

describe('SM emulator: versions and states', () => {
  let rig: Rig;
  let clock: ManualClock;
  let n = 0;
  beforeAll(async () => {
    clock = manualClock();
    rig = await startRig({ clock });
  });
  afterAll(() => rig.stop());

  const secret = async (extra: Record<string, unknown> = {}) => {
    const [s] = await rig.client.createSecret({
      parent: 'projects/p',
      secretId: `versions-${n++}`,
      secret: { replication: AUTOMATIC, ...extra },
    });
    return nameOf(s);
  };
  const add = async (name: string, value: string) => {
    const [v] = await rig.client.addSecretVersion({
      parent: name,
      payload: { data: Buffer.from(value) },
    });
    return v;
  };
  const read = async (name: string) => {
    const [r] = await rig.client.accessSecretVersion({ name });
    return r.payload?.data?.toString();
  };

  it('numbers versions from 1 and reads them by number', async () => {
    const name = await secret();
    const v1 = await add(name, 'one');
    const v2 = await add(name, 'two');
    expect([v1.name, v2.name]).toEqual([`${name}/versions/1`, `${name}/versions/2`]);
    expect(v1).toMatchObject({ state: 'ENABLED', clientSpecifiedPayloadChecksum: false });
    expect(v1.replicationStatus?.automatic).toBeTruthy();
    expect(await read(`${name}/versions/1`)).toBe('one');
    const [got] = await rig.client.getSecretVersion({ name: `${name}/versions/2` });
    expect(got).toMatchObject({ name: v2.name, state: 'ENABLED', etag: v2.etag });
  });

  it('answers NOT_FOUND for a missing version, a missing secret and latest of an empty secret', async () => {
    const name = await secret();
    expect(
      await failure(rig.client.accessSecretVersion({ name: `${name}/versions/latest` })),
    ).toEqual({
      code: status.NOT_FOUND,
      details: `Secret [${name}] not found or has no versions.`,
    });
    await add(name, 'x');
    expect(await failure(rig.client.getSecretVersion({ name: `${name}/versions/2` }))).toEqual({
      code: status.NOT_FOUND,
      details: `Secret Version [${name}/versions/2] not found.`,
    });
    expect(
      await failure(
        rig.client.accessSecretVersion({ name: 'projects/p/secrets/none/versions/latest' }),
      ),
    ).toEqual({
      code: status.NOT_FOUND,
      details: 'Secret [projects/p/secrets/none] not found or has no versions.',
    });
    expect(
      (
        await failure(
          rig.client.addSecretVersion({
            parent: 'projects/p/secrets/none',
            payload: { data: Buffer.from('x') },
          }),
        )
      ).code,
    ).toBe(status.NOT_FOUND);
  });

  it('disables and enables: a disabled version keeps its data but cannot be read', async () => {
    const name = await secret();
    await add(name, 'keep');
    const [disabled] = await rig.client.disableSecretVersion({ name: `${name}/versions/1` });
    expect(disabled.state).toBe('DISABLED');
    expect(await failure(rig.client.accessSecretVersion({ name: `${name}/versions/1` }))).toEqual({
      code: status.FAILED_PRECONDITION,
      details: `Secret Version [${name}/versions/1] is in DISABLED state.`,
    });
    const [enabled] = await rig.client.enableSecretVersion({ name: `${name}/versions/1` });
    expect(enabled.state).toBe('ENABLED');
    expect(await read(`${name}/versions/1`)).toBe('keep');
  });

  it('destroys for good: no data, destroy_time set, no way back', async () => {
    const name = await secret();
    await add(name, 'doomed');
    const [destroyed] = await rig.client.destroySecretVersion({ name: `${name}/versions/1` });
    expect(destroyed.state).toBe('DESTROYED');
    expect(destroyed.destroyTime?.seconds).toBe(String(Math.floor(clock.now() / 1000)));
    expect(await failure(rig.client.accessSecretVersion({ name: `${name}/versions/1` }))).toEqual({
      code: status.FAILED_PRECONDITION,
      details: `Secret Version [${name}/versions/1] is in DESTROYED state.`,
    });
    for (const call of [
      rig.client.enableSecretVersion({ name: `${name}/versions/1` }),
      rig.client.disableSecretVersion({ name: `${name}/versions/1` }),
      rig.client.destroySecretVersion({ name: `${name}/versions/1` }),
    ]) {
      expect(await failure(call)).toEqual({
        code: status.FAILED_PRECONDITION,
        details: 'SecretVersion.state is already DESTROYED',
      });
    }
  });

  it('with version_destroy_ttl, destroy only schedules: DISABLED until the time, then DESTROYED', async () => {
    const name = await secret({ versionDestroyTtl: { seconds: 86_400 } });
    await add(name, 'a');
    await add(name, 'b');
    const [scheduled] = await rig.client.destroySecretVersion({ name: `${name}/versions/1` });
    expect(scheduled.state).toBe('DISABLED');
    expect(Number(scheduled.scheduledDestroyTime?.seconds)).toBe(
      Math.floor(clock.now() / 1000) + 86_400,
    );
    expect(await failure(rig.client.destroySecretVersion({ name: `${name}/versions/1` }))).toEqual({
      code: status.FAILED_PRECONDITION,
      details: 'SecretVersion is already scheduled for DESTRUCTION.',
    });
    // Enabling cancels the scheduled destruction.
    await rig.client.destroySecretVersion({ name: `${name}/versions/2` });
    const [restored] = await rig.client.enableSecretVersion({ name: `${name}/versions/2` });
    expect(restored.state).toBe('ENABLED');
    expect(restored.scheduledDestroyTime).toBeNull();

    clock.advance(86_400_000);
    await rig.emulator.checkRotations();
    const [v1] = await rig.client.getSecretVersion({ name: `${name}/versions/1` });
    const [v2] = await rig.client.getSecretVersion({ name: `${name}/versions/2` });
    expect(v1.state).toBe('DESTROYED');
    expect(v1.scheduledDestroyTime).toBeNull();
    expect(v2.state).toBe('ENABLED');
  });

  it('refuses a version_destroy_ttl under a day or over 1000 days', async () => {
    for (const [seconds, message] of [
      [86_399, 'Version destroy TTL must be at least [24h].'],
      [86_400_001, 'Version destroy TTL cannot be more than [24000h].'],
    ] as const) {
      expect(
        await failure(
          rig.client.createSecret({
            parent: 'projects/p',
            secretId: `ttl-${seconds}`,
            secret: { replication: AUTOMATIC, versionDestroyTtl: { seconds } },
          }),
        ),
      ).toEqual({ code: status.INVALID_ARGUMENT, details: message });
    }
  });

  it('lists newest first, in pages, filtered by state', async () => {
    const name = await secret();
    for (let i = 1; i <= 5; i++) await add(name, `v${i}`);
    await rig.client.disableSecretVersion({ name: `${name}/versions/2` });
    await rig.client.destroySecretVersion({ name: `${name}/versions/4` });
    const [all] = await rig.client.listSecretVersions({ parent: name });
    expect(all.map(lastSegment)).toEqual(['5', '4', '3', '2', '1']);
    const [page, next, response] = await rig.client.listSecretVersions(
      { parent: name, pageSize: 2 },
      { autoPaginate: false },
    );
    expect(page.map(lastSegment)).toEqual(['5', '4']);
    expect(response.totalSize).toBe(5);
    const [page2] = await rig.client.listSecretVersions(
      { parent: name, pageSize: 2, pageToken: next?.pageToken ?? '' },
      { autoPaginate: false },
    );
    expect(page2.map(lastSegment)).toEqual(['3', '2']);
    const states = async (filter: string) => {
      const [versions] = await rig.client.listSecretVersions({ parent: name, filter });
      return versions.map(lastSegment);
    };
    expect(await states('state:ENABLED')).toEqual(['5', '3', '1']);
    expect(await states('state:(DISABLED OR DESTROYED)')).toEqual(['4', '2']);
    expect(await states('NOT state:DESTROYED')).toEqual(['5', '3', '2', '1']);
    expect(await states('state=DISABLED')).toEqual(['2']);
  });

  it('does not return payloads from list or get', async () => {
    const name = await secret();
    await add(name, 'hidden');
    const [versions] = await rig.client.listSecretVersions({ parent: name });
    expect(JSON.stringify(versions)).not.toContain(Buffer.from('hidden').toString('base64'));
    expect(JSON.stringify(versions)).not.toContain('hidden');
  });

  describe('latest', () => {
    it('is the highest number whatever its state', async () => {
      const name = await secret();
      await add(name, 'good');
      await add(name, 'newest');
      expect(await read(`${name}/versions/latest`)).toBe('newest');
      const [latest] = await rig.client.accessSecretVersion({ name: `${name}/versions/latest` });
      expect(latest.name).toBe(`${name}/versions/2`);

      await rig.client.disableSecretVersion({ name: `${name}/versions/2` });
      expect(
        await failure(rig.client.accessSecretVersion({ name: `${name}/versions/latest` })),
      ).toEqual({
        code: status.FAILED_PRECONDITION,
        details: `Secret Version [${name}/versions/2] is in DISABLED state.`,
      });
      const [meta] = await rig.client.getSecretVersion({ name: `${name}/versions/latest` });
      expect(meta).toMatchObject({ name: `${name}/versions/2`, state: 'DISABLED' });

      await rig.client.destroySecretVersion({ name: `${name}/versions/2` });
      expect(
        (await failure(rig.client.accessSecretVersion({ name: `${name}/versions/latest` })))
          .details,
      ).toBe(`Secret Version [${name}/versions/2] is in DESTROYED state.`);
      await add(name, 'fixed');
      expect(await read(`${name}/versions/latest`)).toBe('fixed');
    });
  });

  describe('payload and CRC32C', () => {
    it('stores 64 KiB and refuses one byte more, and refuses an empty payload', async () => {
      const name = await secret();
      const [ok] = await rig.client.addSecretVersion({
        parent: name,
        payload: { data: Buffer.alloc(65_536, 7) },
      });
      const [big] = await rig.client.accessSecretVersion({ name: ok.name });
      expect(big.payload?.data?.length).toBe(65_536);
      for (const data of [Buffer.alloc(65_537, 7), Buffer.alloc(0)]) {
        expect(
          (await failure(rig.client.addSecretVersion({ parent: name, payload: { data } }))).code,
        ).toBe(status.INVALID_ARGUMENT);
      }
    });

    it('checks a given CRC32C (Castagnoli) and always returns one on access', async () => {
      const name = await secret();
      const data = Buffer.from('123456789');
      const [v] = await rig.client.addSecretVersion({
        parent: name,
        payload: { data, dataCrc32c: 0xe3069283 },
      });
      expect(v.clientSpecifiedPayloadChecksum).toBe(true);
      const [access] = await rig.client.accessSecretVersion({ name: v.name });
      expect(access.payload?.dataCrc32c).toBe(String(0xe3069283));

      // zlib's CRC-32 (IEEE) of the same bytes is not CRC32C.
      expect(
        await failure(
          rig.client.addSecretVersion({ parent: name, payload: { data, dataCrc32c: 0xcbf43926 } }),
        ),
      ).toEqual({
        code: status.INVALID_ARGUMENT,
        details: 'Provided SecretPayload.data crc32c does not match calculated crc32c.',
      });
      const [plain] = await rig.client.addSecretVersion({
        parent: name,
        payload: { data: Buffer.from('abc') },
      });
      const [plainAccess] = await rig.client.accessSecretVersion({ name: plain.name });
      // CRC32C("abc") = 0x364b3fb7
      expect(plainAccess.payload?.dataCrc32c).toBe(String(0x364b3fb7));
      const [versions] = await rig.client.listSecretVersions({ parent: name });
      expect(versions.map(lastSegment)).toEqual(['2', '1']);
    });
  });
});
