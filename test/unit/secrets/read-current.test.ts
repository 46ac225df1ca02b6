import { PermanentError, TransientError } from '../../../shared/errors';
import { VersionNotEnabledError } from '../../../shared/secrets/errors';
import { readCurrentValue } from '../../../shared/secrets/read-current';
import type { SecretStore, VersionInfo } from '../../../shared/secrets/secret-store';

const NAME = 'projects/p/secrets/admin';

/** A store with numbered versions and an optional `current` alias, counting its calls. */
function store(versions: Array<{ n: number; state: VersionInfo['state'] }>, current?: number) {
  const calls: string[] = [];
  const s = {
    async getSecret() {
      calls.push('getSecret');
      return { name: NAME, etag: 'e', annotations: {}, aliases: current ? { current } : {} };
    },
    async listVersions() {
      calls.push('listVersions');
      return [...versions]
        .sort((a, b) => b.n - a.n)
        .map((v) => ({ number: v.n, state: v.state, createTime: v.n, etag: `e${v.n}` }));
    },
    async accessVersion(_: string, version: number | string) {
      calls.push(`access:${version}`);
      const n = version === 'latest' ? Math.max(...versions.map((v) => v.n)) : Number(version);
      const v = versions.find((x) => x.n === n);
      if (v?.state !== 'ENABLED') throw new VersionNotEnabledError(`version ${n} is ${v?.state}`);
      return `value-${n}`;
    },
  } as unknown as SecretStore;
  return { s, calls };
}

describe('readCurrentValue', () => {
  it('reads the current alias by number: 2 calls', async () => {
    const { s, calls } = store(
      [
        { n: 1, state: 'ENABLED' },
        { n: 2, state: 'ENABLED' },
      ],
      1,
    );
    await expect(readCurrentValue(s, NAME)).resolves.toBe('value-1');
    expect(calls).toEqual(['getSecret', 'access:1']);
  });

  it('without an alias reads latest when it is enabled: 2 calls', async () => {
    const { s, calls } = store([
      { n: 1, state: 'ENABLED' },
      { n: 2, state: 'ENABLED' },
    ]);
    await expect(readCurrentValue(s, NAME)).resolves.toBe('value-2');
    expect(calls).toEqual(['getSecret', 'access:latest']);
  });

  it('with a disabled newest version reads the newest enabled one: 4 calls', async () => {
    const { s, calls } = store([
      { n: 1, state: 'ENABLED' },
      { n: 2, state: 'ENABLED' },
      { n: 3, state: 'DISABLED' },
      { n: 4, state: 'DESTROYED' },
    ]);
    await expect(readCurrentValue(s, NAME)).resolves.toBe('value-2');
    expect(calls).toEqual(['getSecret', 'access:latest', 'listVersions', 'access:2']);
  });

  it('says which version it tried, and keeps the class', async () => {
    const none = store([{ n: 1, state: 'DISABLED' }]);
    await expect(readCurrentValue(none.s, NAME)).rejects.toThrow(
      `secret ${NAME} has no enabled version to read`,
    );
    const aliasDisabled = store(
      [
        { n: 1, state: 'DISABLED' },
        { n: 2, state: 'ENABLED' },
      ],
      1,
    );
    const err = await readCurrentValue(aliasDisabled.s, NAME).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toBe(
      `reading secret ${NAME} at version 1 (its current alias) failed: version 1 is DISABLED`,
    );
    const flaky = store([{ n: 1, state: 'ENABLED' }]);
    flaky.s.accessVersion = async () => {
      throw new TransientError('UNAVAILABLE');
    };
    const t = await readCurrentValue(flaky.s, NAME).catch((e: unknown) => e);
    expect(t).toBeInstanceOf(TransientError);
    expect((t as Error).message).toBe(
      `reading secret ${NAME} at version latest (its newest) failed: UNAVAILABLE`,
    );
  });
});
