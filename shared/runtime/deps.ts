import { randomBytes, randomUUID } from 'node:crypto';
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { systemClock } from '../clock';
import type { DatabricksClient } from '../databricks/client';
import type { WorkspaceClientDeps } from '../databricks/workspace-client';
import type { WorkspaceConfig } from '../databricks/workspace-config';
import { createLogger, type Logger } from '../logging/logger';
import { Redactor } from '../logging/redactor';
import { createPubSubPublish } from '../messaging/publisher';
import type { RotatorDeps } from '../rotation/context';
import { readCurrentValue } from '../secrets/read-current';
import { createGcpSecretStore, type SecretStore } from '../secrets/secret-store';
import {
  assertCredentialSecretPinned,
  assertWorkspacePinned,
  type DatabricksPins,
} from '../trust/databricks-pins';
import { parseSettings, type Settings } from './settings';

/** What every function needs; production wiring below, tests build their own. */
export interface Deps extends RotatorDeps {
  runtime: Settings;
  /** A Databricks client per workspace, signed in as the workspace config says. */
  databricksClientFor: (workspace: WorkspaceConfig) => DatabricksClient;
}

/**
 * Databricks clients cached per workspace host and auth, so tokens are cached too. With `pins`
 * (the functions always pass the deployment's), a workspace host or credential secret the
 * deployment does not pin is refused (TrustError) before any token is read or request is sent.
 * The operator CLI passes none: it runs as the operator, with the operator's own rights.
 */
export function databricksClients(
  base: Omit<WorkspaceClientDeps, 'readSecret'>,
  store: SecretStore,
  projectId: string,
  pins?: DatabricksPins,
): (workspace: WorkspaceConfig) => DatabricksClient {
  // Secret references in the workspace config: a short id (in the functions' project), a full
  // secret name (its current value), or a full version name.
  const readSecret = async (ref: string) => {
    if (pins) assertCredentialSecretPinned(ref, pins, projectId);
    const full = ref.startsWith('projects/') ? ref : `projects/${projectId}/secrets/${ref}`;
    const [, secret, version] = /^(.*?)(?:\/versions\/([^/]+))?$/.exec(full) ?? [];
    return version && secret ? store.accessVersion(secret, version) : readCurrentValue(store, full);
  };
  const clients = new Map<string, DatabricksClient>();
  return (workspace) => {
    if (pins) assertWorkspacePinned(workspace, pins, projectId);
    const key = JSON.stringify(workspace);
    let client = clients.get(key);
    if (!client) {
      client = lazy.databricks().createWorkspaceClient(workspace, {
        ...base,
        readSecret,
      });
      clients.set(key, client);
    }
    return client;
  };
}

// Heavy modules (gax, the database drivers, google-auth-library) are required on first use, not
// at import: a cold start that only acknowledges an event should not pay for them.
const lazy = {
  secrets: () => require('../secrets/client') as typeof import('../secrets/client'),
  engines: () => require('../engines/registry') as typeof import('../engines/registry'),
  databricks: () =>
    require('../databricks/workspace-client') as typeof import('../databricks/workspace-client'),
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
    deps = {
      runtime,
      store,
      databricksClientFor: databricksClients(
        { clock: systemClock, random: Math.random, redactor, logger },
        store,
        runtime.projectId,
        runtime.databricks,
      ),
      engineFor: (name) => lazy.engines().engineFor(name),
      publish: createPubSubPublish({ projectId: runtime.projectId }),
      clock: systemClock,
      randomBytes,
      logger,
      redactor,
      newHolderId: () => randomUUID(),
      settings: {
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
      },
    };
    return deps;
  };
}
