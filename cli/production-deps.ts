import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { PubSub } from '@google-cloud/pubsub';
import { systemClock } from '../shared/clock';
import type { RetryPolicy } from '../shared/databricks/retry';
import { createLogger } from '../shared/logging/logger';
import { Redactor } from '../shared/logging/redactor';
import { createPubSubPublish } from '../shared/messaging/publisher';
import type { Publish } from '../shared/rotation/context';
import { databricksClients } from '../shared/runtime/databricks-clients';
import { secretStoreFromEnv } from '../shared/runtime/deps';
import type { CliDeps } from './deps';

/** An operator waits at a terminal: a few quick retries, not the functions' minute of patience. */
const DATABRICKS_RETRY: RetryPolicy = {
  maxAttempts: 3,
  budgetMs: 15_000,
  baseDelayMs: 500,
  maxDelayMs: 4_000,
};

/**
 * Against the local Pub/Sub, the client as the SM emulator's is built: an explicit universe
 * domain, so gax does not probe the metadata server first (slow, or hanging, off Google Cloud).
 * Without the variable, the client's own defaults (ADC, the production endpoint).
 */
function emulatorClient(project: string, env: NodeJS.ProcessEnv): { pubsub?: PubSub } {
  const host = env.PUBSUB_EMULATOR_HOST;
  if (!host) return {};
  const { PubSub: PubSubClass } =
    require('@google-cloud/pubsub') as typeof import('@google-cloud/pubsub');
  return {
    pubsub: new PubSubClass({
      ...(project ? { projectId: project } : {}),
      apiEndpoint: host,
      emulatorMode: true,
      universeDomain: 'googleapis.com',
    }),
  };
}

/**
 * The real dependencies: Secret Manager and Pub/Sub through the official clients (which honour
 * SECRET_MANAGER_EMULATOR_HOST and PUBSUB_EMULATOR_HOST), the database engines and Databricks
 * clients the functions use. Clients are created on first use, so `--help` costs nothing.
 */
export function productionCliDeps(env: NodeJS.ProcessEnv = process.env): CliDeps {
  const redactor = new Redactor();
  const store = secretStoreFromEnv(redactor, env);
  const stderr = (text: string) => process.stderr.write(text);
  // Databricks retries and warnings, for diagnosis; JSON lines on stderr, never on stdout.
  const logger = createLogger({
    redactor,
    minSeverity: 'WARNING',
    sink: { write: (line) => stderr(`${line}\n`) },
  });
  // One publisher per project, taken from the topic name, so no project detection is needed.
  const publishers = new Map<string, Publish>();
  const publish: Publish = (topic, data, attributes) => {
    const project = /^projects\/([^/]+)\/topics\//.exec(topic)?.[1] ?? '';
    let p = publishers.get(project);
    if (!p) {
      p = createPubSubPublish({
        ...(project ? { projectId: project } : {}),
        ...emulatorClient(project, env),
      });
      publishers.set(project, p);
    }
    return p(topic, data, attributes);
  };
  const databricks = new Map<string, ReturnType<typeof databricksClients>>();
  return {
    env,
    store,
    publish,
    clock: systemClock,
    engineFor: (name) =>
      (
        require('../shared/engines/registry') as typeof import('../shared/engines/registry')
      ).engineFor(name),
    databricksClientFor: (workspace, projectId) => {
      let forProject = databricks.get(projectId);
      if (!forProject) {
        forProject = databricksClients(
          {
            clock: systemClock,
            random: Math.random,
            redactor,
            logger,
            retry: DATABRICKS_RETRY,
            requestTimeoutMs: 10_000,
          },
          store,
          projectId,
        );
        databricks.set(projectId, forProject);
      }
      return forProject(workspace);
    },
    newRequestId: () => `cli-${randomUUID()}`,
    readFile: (path) => readFile(path, 'utf8'),
    stdout: (text) => process.stdout.write(text),
    stderr,
    redactor,
    pollMs: 2_000,
    publishTimeoutMs: 30_000,
    identity: () => {
      const { GoogleAuth } = require('google-auth-library') as typeof import('google-auth-library');
      const { googleIdentity } = require('./identity') as typeof import('./identity');
      return googleIdentity(
        new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] }),
      );
    },
    stderrIsTTY: process.stderr.isTTY === true,
    onInterrupt: (handler) => {
      process.once('SIGINT', handler);
      return () => {
        process.off('SIGINT', handler);
      };
    },
  };
}
