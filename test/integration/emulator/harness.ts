import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import {
  type SecretManagerEmulator,
  type SecretManagerEmulatorOptions,
  startSecretManagerEmulator,
} from '../../../emulator/secret-manager';
import type { Clock } from '../../../shared/clock';
import { createSecretManagerClient } from '../../../shared/secrets/client';

/**
 * A conformance rig: an emulator on a free port and the official client pointed at it through
 * SECRET_MANAGER_EMULATOR_HOST, exactly as the project's code builds its clients.
 */
export interface Rig {
  emulator: SecretManagerEmulator;
  client: SecretManagerServiceClient;
  stop(): Promise<void>;
}

export async function startRig(options: SecretManagerEmulatorOptions = {}): Promise<Rig> {
  const emulator = await startSecretManagerEmulator(options);
  const client = createSecretManagerClient({
    env: { SECRET_MANAGER_EMULATOR_HOST: emulator.address },
  });
  return {
    emulator,
    client,
    async stop() {
      await client.close();
      await emulator.stop();
    },
  };
}

/** A clock that moves only when told to. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
}

export function manualClock(start = Date.parse('2026-10-02T13:00:00Z')): ManualClock {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

export const AUTOMATIC = { automatic: {} };
export const TOPIC = 'projects/p/topics/secret-events';

/** The gRPC status a call failed with, and its message. */
export async function failure(call: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await call;
  } catch (err) {
    const e = err as { code?: number; details?: string };
    return { code: e.code ?? -1, details: e.details ?? '' };
  }
  throw new Error('expected the call to fail');
}

/** A timestamp `ms` after `clock`'s now, as the client sends one. */
export const at = (clock: Clock, ms: number) => {
  const t = clock.now() + ms;
  return { seconds: Math.floor(t / 1000), nanos: (t % 1000) * 1e6 };
};

export const seconds = (s: number) => ({ seconds: s, nanos: 0 });

/** The client types every name as optional; a resource the emulator returned always has one. */
export function nameOf(resource: { name?: string | null }): string {
  if (!resource.name) throw new Error('resource without a name');
  return resource.name;
}

/** `projects/p/secrets/s/versions/3` → `3`. */
export const lastSegment = (resource: { name?: string | null }): string =>
  nameOf(resource).split('/').pop() ?? '';
