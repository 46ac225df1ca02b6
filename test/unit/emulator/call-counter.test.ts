import { CallCounter, countingStore } from '../../../emulator/secret-manager/call-counter';
import type { SecretStore } from '../../../shared/secrets/secret-store';

describe('call counter', () => {
  it('counts a SecretStore’s calls by kind and method, and passes results through', async () => {
    const snapshot = { name: 's', etag: 'e', labels: {}, annotations: {}, aliases: {}, topics: [] };
    const store: SecretStore = {
      getSecret: async () => snapshot,
      listSecrets: async () => [snapshot],
      updateSecret: async () => snapshot,
      addVersion: async () => 2,
      accessVersion: async () => 'payload',
      listVersions: async () => [],
      disableVersion: async () => {},
      enableVersion: async () => {},
      destroyVersion: async () => {},
    };
    const counter = new CallCounter();
    const counted = countingStore(store, counter);
    await counted.getSecret('s');
    const { result, calls } = await counter.during(async () => {
      await counted.updateSecret(snapshot, {});
      await counted.listVersions('s');
      return counted.accessVersion('s', 1);
    });
    expect(result).toBe('payload');
    expect(calls).toEqual({
      read: 1,
      write: 1,
      access: 1,
      byMethod: { updateSecret: 1, listSecretVersions: 1, accessSecretVersion: 1 },
    });
    expect(counter.snapshot()).toMatchObject({ read: 2, write: 1, access: 1 });
    counter.reset();
    expect(counter.snapshot()).toEqual({ read: 0, write: 0, access: 0, byMethod: {} });
  });
});
