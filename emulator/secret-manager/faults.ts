import { status } from '@grpc/grpc-js';

/**
 * Injected failures, for tests of the rotator's robustness. A fault fails the next `count` calls
 * of one RPC (or of every RPC with `'*'`), either before the call touches state (the default: the
 * client sees UNAVAILABLE and nothing happened) or after it committed (`afterCommit`: the write
 * happened but the client still sees an error, as when a response is lost).
 */
export const RPC_METHODS = [
  'listSecrets',
  'createSecret',
  'addSecretVersion',
  'getSecret',
  'updateSecret',
  'deleteSecret',
  'listSecretVersions',
  'getSecretVersion',
  'accessSecretVersion',
  'disableSecretVersion',
  'enableSecretVersion',
  'destroySecretVersion',
  'setIamPolicy',
  'getIamPolicy',
  'testIamPermissions',
  'enableManagedRotation',
  'rotateSecret',
] as const;
export type RpcMethod = (typeof RPC_METHODS)[number];

export interface FaultOptions {
  /** gRPC status code; UNAVAILABLE by default. */
  code?: status;
  /** How many calls fail; 1 by default. */
  count?: number;
  /** Fail after the call committed its change instead of before. */
  afterCommit?: boolean;
  message?: string;
}

export interface Fault {
  code: status;
  message: string;
}

interface Pending extends Fault {
  method: RpcMethod | '*';
  remaining: number;
  afterCommit: boolean;
}

export class FaultInjector {
  private readonly pending: Pending[] = [];

  failNext(method: RpcMethod | '*', options: FaultOptions = {}): void {
    if (method !== '*' && !RPC_METHODS.includes(method)) {
      throw new Error(`unknown Secret Manager method: ${method}`);
    }
    this.pending.push({
      method,
      remaining: options.count ?? 1,
      afterCommit: options.afterCommit ?? false,
      code: options.code ?? status.UNAVAILABLE,
      message: options.message ?? 'The service is currently unavailable.',
    });
  }

  /** Removes every pending fault. */
  clear(): void {
    this.pending.length = 0;
  }

  /** How many injected failures are still to come. */
  get remaining(): number {
    return this.pending.reduce((n, p) => n + p.remaining, 0);
  }

  /** The fault for this call and phase, if one is due; consumes it. */
  take(method: RpcMethod, phase: 'before' | 'after'): Fault | undefined {
    const index = this.pending.findIndex(
      (p) => (p.method === method || p.method === '*') && p.afterCommit === (phase === 'after'),
    );
    const found = this.pending[index];
    if (!found) return undefined;
    found.remaining -= 1;
    if (found.remaining <= 0) this.pending.splice(index, 1);
    return { code: found.code, message: found.message };
  }
}
