import type { FaultInjector, RpcMethod } from '../../emulator/secret-manager';
import type { SecretStore } from '../../shared/secrets/secret-store';

const RPC_OF: Record<keyof SecretStore, RpcMethod> = {
  getSecret: 'getSecret',
  listSecrets: 'listSecrets',
  updateSecret: 'updateSecret',
  addVersion: 'addSecretVersion',
  accessVersion: 'accessSecretVersion',
  listVersions: 'listSecretVersions',
  disableVersion: 'disableSecretVersion',
  enableVersion: 'enableSecretVersion',
  destroyVersion: 'destroySecretVersion',
};

/**
 * Counts the Secret Manager calls the rotator makes and, at the chosen call, arms the emulator to
 * answer UNAVAILABLE: the failure travels through gRPC and the official client exactly as in
 * production. `afterCommit` makes the emulator apply the change and then fail (a lost response).
 */
export function faultAtCall(
  store: SecretStore,
  faults: FaultInjector,
  at: number,
  afterCommit = false,
): { store: SecretStore; calls: () => string[] } {
  const calls: string[] = [];
  const wrapped = {} as Record<string, unknown>;
  for (const key of Object.keys(RPC_OF) as (keyof SecretStore)[]) {
    wrapped[key] = (...args: unknown[]) => {
      calls.push(RPC_OF[key]);
      if (calls.length === at) faults.failNext(RPC_OF[key], { afterCommit });
      return (store[key] as (...a: unknown[]) => unknown)(...args);
    };
  }
  return { store: wrapped as unknown as SecretStore, calls: () => calls };
}
