import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { systemClock } from '../clock';
import type { DatabricksClient } from '../databricks/client';
import type { WorkspaceConfig } from '../databricks/workspace-config';
import { createLogger, type Logger } from '../logging/logger';
import { Redactor } from '../logging/redactor';
import { createPubSubPublish } from '../messaging/publisher';
import type { RotatorDeps, RotatorSettings } from '../rotation/context';
import { createGcpSecretStore } from '../secrets/gcp-secret-store';
import type { SecretStore } from '../secrets/secret-store';
import { databricksClients } from './databricks-clients';
import { buildRotatorDeps } from './rotator-deps';
import { parseSettings, type Settings } from './settings';

/**
 * What every function needs: the rotator's dependencies (rotator-deps.ts), the deployment's
 * settings and its Databricks clients. productionDeps() below is the wiring; tests call
 * buildRotatorDeps with their own clients.
 */
export interface Deps extends RotatorDeps {
  runtime: Settings;
  /** A Databricks client per workspace, signed in as the workspace config says. */
  databricksClientFor: (workspace: WorkspaceConfig) => DatabricksClient;
}

// Heavy modules (gax) are required on first use, not
// at import: a cold start that only acknowledges an event should not pay for them.
const lazy = {
  secrets: () => require('../secrets/client') as typeof import('../secrets/client'),
};

/** One Secret Manager client per location (global, or a regional endpoint), created on first use. */
export function secretStoreFromEnv(
  redactor: Redactor | undefined,
  env: NodeJS.ProcessEnv = process.env,
): SecretStore & { close(): Promise<void> } {
  const clients = new Map<string, SecretManagerServiceClient>();
  const store = createGcpSecretStore({
    ...(redactor ? { redactor } : {}),
    clientFor: (name) => {
      const { createSecretManagerClient, locationOf } = lazy.secrets();
      const location = locationOf(name) ?? '';
      let client = clients.get(location);
      if (!client) {
        client = createSecretManagerClient({ ...(location ? { location } : {}), env });
        clients.set(location, client);
      }
      return client;
    },
  });
  return {
    ...store,
    /** Close every client created so far (tests and short-lived tools; functions never close). */
    close: async () => {
      await Promise.all([...clients.values()].map((c) => c.close()));
      clients.clear();
    },
  };
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
    const store = secretStoreFromEnv(redactor, env);
    const settings: RotatorSettings = {
      rotationEventsTopic: runtime.rotationEventsTopic,
      leaseMs: runtime.leaseMs,
      maxAttempts: runtime.maxAttempts,
      testAttempts: runtime.testAttempts,
      testRetryDelayMs: runtime.testRetryDelayMs,
      throttleWaitMs: runtime.throttleWaitMs,
      ...(runtime.minGracePeriodMs === undefined
        ? {}
        : { minGracePeriodMs: runtime.minGracePeriodMs }),
      scope: runtime.scope,
      stagingSecrets: runtime.stagingSecrets,
    };
    const publish = createPubSubPublish({ projectId: runtime.projectId });
    deps = {
      ...buildRotatorDeps({ store, publish, logger, redactor, settings }),
      runtime,
      databricksClientFor: databricksClients(
        { clock: systemClock, random: Math.random, redactor, logger },
        store,
        runtime.projectId,
        runtime.databricks,
      ),
    };
    return deps;
  };
}
