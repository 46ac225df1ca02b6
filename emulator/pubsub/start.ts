import { z } from 'zod';
import {
  type BackendChoice,
  chooseBackend,
  PUBSUB_PREFERENCES,
  type PubSubPreference,
} from './choose-backend';
import { freePort } from './free-port';
import { locateOfficialEmulator, startOfficialEmulator } from './official-emulator';
import { startStandIn } from './stand-in/server';

export type PubSubKind = 'official-emulator' | 'in-process';

export interface StartPubSubOptions {
  prefer?: PubSubPreference;
  /** Default: a free port. */
  port?: number;
  /** The project the local stack uses; both backends accept any project. */
  projectId?: string;
}

export interface PubSubHandle {
  /** `127.0.0.1:port`, for PUBSUB_EMULATOR_HOST. */
  host: string;
  kind: PubSubKind;
  /** Why this backend ran (say it in logs and test output). */
  reason: string;
  projectId: string;
  /** The variables @google-cloud/pubsub reads to talk to this instance. */
  env: { PUBSUB_EMULATOR_HOST: string; PUBSUB_PROJECT_ID: string };
  /** The emulator's pid (official emulator only). */
  pid?: number;
  stop(): Promise<void>;
}

export const DEFAULT_PROJECT_ID = 'gsm-rotator-local';

const optionsSchema = z.object({
  prefer: z.enum(PUBSUB_PREFERENCES).default('auto'),
  port: z.number().int().min(0).max(65535).default(0),
  projectId: z
    .string()
    .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'a GCP project id')
    .default(DEFAULT_PROJECT_ID),
});

/**
 * Starts a local Pub/Sub: google-cloud-cli's official emulator where the machine has it, the
 * in-process stand-in where it does not (see choose-backend.ts for GSM_PUBSUB and
 * REQUIRE_PUBSUB_EMULATOR). The handle says which one runs.
 */
export async function startPubSub(options: StartPubSubOptions = {}): Promise<PubSubHandle> {
  const { prefer, port, projectId } = optionsSchema.parse(options);
  const choice: BackendChoice = chooseBackend(prefer, process.env, locateOfficialEmulator());
  const describe = (host: string, kind: PubSubKind) => ({
    host,
    kind,
    reason: choice.reason,
    projectId,
    env: { PUBSUB_EMULATOR_HOST: host, PUBSUB_PROJECT_ID: projectId },
  });

  if (choice.backend === 'official') {
    const emulator = await startOfficialEmulator(choice.binary, port || (await freePort()));
    return {
      ...describe(emulator.host, 'official-emulator'),
      pid: emulator.pid,
      stop: emulator.stop,
    };
  }
  const standIn = await startStandIn({ port });
  return { ...describe(standIn.host, 'in-process'), stop: standIn.stop };
}
