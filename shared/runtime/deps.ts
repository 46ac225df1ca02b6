import { randomBytes, randomUUID } from 'node:crypto';
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { systemClock } from '../clock';
import { engineFor } from '../engines/registry';
import { createLogger, type Logger } from '../logging/logger';
import { Redactor } from '../logging/redactor';
import { createPubSubPublish } from '../messaging/publisher';
import type { RotatorDeps } from '../rotation/context';
import { createSecretManagerClient, locationOf } from '../secrets/client';
import { createGcpSecretStore, type SecretStore } from '../secrets/secret-store';
import { parseSettings, type Settings } from './settings';

/** What every function needs; production wiring below, tests build their own. */
export interface Deps extends RotatorDeps {
  runtime: Settings;
}

/** One Secret Manager client per location (global, or a regional endpoint), created on first use. */
export function secretStoreFromEnv(
  redactor: Redactor,
  env: NodeJS.ProcessEnv = process.env,
): SecretStore {
  const clients = new Map<string, SecretManagerServiceClient>();
  return createGcpSecretStore({
    redactor,
    clientFor: (name) => {
      const location = locationOf(name) ?? '';
      let client = clients.get(location);
      if (!client) {
        client = createSecretManagerClient({ ...(location ? { location } : {}), env });
        clients.set(location, client);
      }
      return client;
    },
  });
}

/**
 * Production dependencies from the environment, built lazily on the first event and memoised:
 * cold start stays cheap, and a bad environment is reported by the first event, once.
 */
export function productionDeps(env: NodeJS.ProcessEnv = process.env): () => Deps {
  let deps: Deps | undefined;
  return () => {
    if (deps) return deps;
    const runtime = parseSettings(env);
    const redactor = new Redactor();
    const logger: Logger = createLogger({ redactor, minSeverity: runtime.logLevel });
    deps = {
      runtime,
      store: secretStoreFromEnv(redactor, env),
      engineFor: (name) => engineFor(name),
      publish: createPubSubPublish({ projectId: runtime.projectId }),
      clock: systemClock,
      randomBytes,
      logger,
      redactor,
      newHolderId: () => randomUUID(),
      settings: {
        rotationEventsTopic: runtime.rotationEventsTopic,
        leaseMs: runtime.leaseMs,
        testAttempts: runtime.testAttempts,
        testRetryDelayMs: runtime.testRetryDelayMs,
      },
    };
    return deps;
  };
}
