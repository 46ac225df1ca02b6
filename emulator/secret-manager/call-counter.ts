import type { SecretStore } from '../../shared/secrets/secret-store';
import type { RpcMethod } from './faults';
import { KIND_OF, type RequestKind } from './request-kinds';

/**
 * Secret Manager calls counted by quota kind (read = get/list, write = create/update/delete/add/
 * enable/disable/destroy, access = AccessSecretVersion) and by method, for tests and the bench.
 * The emulator keeps one (`emulator.calls`) and counts every request that reaches it, refused ones
 * included: what crosses the wire. `countingStore` counts the product's SecretStore calls instead,
 * where no emulator is in the way.
 */
export interface CallCounts {
  read: number;
  write: number;
  access: number;
  /** Per method (client names: `updateSecret`, …); methods never called are absent. */
  byMethod: Partial<Record<RpcMethod, number>>;
}

export class CallCounter {
  private counts: CallCounts = emptyCounts();

  record(method: RpcMethod): void {
    this.counts[KIND_OF[method]]++;
    this.counts.byMethod[method] = (this.counts.byMethod[method] ?? 0) + 1;
  }

  /** A copy of the counts so far. */
  snapshot(): CallCounts {
    return { ...this.counts, byMethod: { ...this.counts.byMethod } };
  }

  reset(): void {
    this.counts = emptyCounts();
  }

  /**
   * Counts the calls `fn` causes (the difference of two snapshots, so other counting goes on
   * undisturbed). Calls from anything else running meanwhile are counted too: measure alone.
   */
  async during<T>(fn: () => Promise<T>): Promise<{ result: T; calls: CallCounts }> {
    const before = this.snapshot();
    const result = await fn();
    return { result, calls: difference(this.snapshot(), before) };
  }
}

export function emptyCounts(): CallCounts {
  return { read: 0, write: 0, access: 0, byMethod: {} };
}

/** `after - before`, per kind and per method. */
export function difference(after: CallCounts, before: CallCounts): CallCounts {
  const byMethod: Partial<Record<RpcMethod, number>> = {};
  for (const [m, n] of Object.entries(after.byMethod) as [RpcMethod, number][]) {
    const d = n - (before.byMethod[m] ?? 0);
    if (d > 0) byMethod[m] = d;
  }
  const kind = (k: RequestKind) => after[k] - before[k];
  return { read: kind('read'), write: kind('write'), access: kind('access'), byMethod };
}

// Every SecretStore method must be mapped: a new one fails to compile here until it is counted.
const STORE_METHODS: Record<keyof SecretStore, RpcMethod> = {
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
 * The store with every call recorded in `counter` (one per store method call; a `listSecrets`
 * or `listVersions` that pages counts once here, once per page in the emulator).
 */
export function countingStore<S extends SecretStore>(store: S, counter: CallCounter): S {
  const wrapped = { ...store } as Record<string, unknown>;
  for (const [key, method] of Object.entries(STORE_METHODS)) {
    const original = (store as unknown as Record<string, (...args: unknown[]) => unknown>)[key];
    if (typeof original !== 'function') continue;
    wrapped[key] = (...args: unknown[]) => {
      counter.record(method);
      return original.apply(store, args);
    };
  }
  return wrapped as S;
}
