import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { PubSub } from '@google-cloud/pubsub';
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { type FakeWorkspace, startFakeWorkspace } from '../emulator/databricks/fake-workspace';
import type { PubSubPreference } from '../emulator/pubsub/choose-backend';
import { type EventarcBridge, startEventarcBridge } from '../emulator/pubsub/eventarc-bridge';
import { type PubSubHandle, startPubSub } from '../emulator/pubsub/start';
import {
  createPubSubNotifier,
  type SecretManagerEmulator,
  startSecretManagerEmulator,
} from '../emulator/secret-manager';
import { createLogger, type Logger, type Severity } from '../shared/logging/logger';
import type { LocalDatabase } from './database';
import { DEMO_JOB_ID, DEMO_TOKEN_SECRET_ID, type DemoSeed, seedDemo } from './demo-seed';
import { type FunctionProcess, startFunctionProcess } from './function-process';
import { formatEntry, formatRaw, isNoise, type LogEntry, parseLogLine } from './log-format';
import type { Teardown } from './teardown';

/**
 * The pieces `startLocalStack` starts, one function each, in the order it calls them. Each
 * registers how to stop what it started (and the ports it took) on the Teardown it is given.
 */

export const LOCAL_PROJECT_ID = 'gsm-rotator-local';

/** The topics of the deployed pipeline, and which function each one triggers. */
export const TOPICS = {
  secretEvents: 'secret-events',
  rotationEvents: 'rotation-events',
  retireTick: 'retire-tick',
} as const;
export const WIRING = [
  { topic: TOPICS.secretEvents, target: 'rotateSecret' },
  { topic: TOPICS.rotationEvents, target: 'refreshConsumers' },
  { topic: TOPICS.retireTick, target: 'retireVersions' },
] as const;

export type StackEnv = Record<
  'SECRET_MANAGER_EMULATOR_HOST' | 'PUBSUB_EMULATOR_HOST' | 'PUBSUB_PROJECT_ID' | 'GCP_PROJECT',
  string
> & {
  /** Where rotateSecret stages pending credentials (terraform's staging.tf in a deployment). */
  ROTATOR_STAGING_SECRET?: string;
};

/** Where every log line goes: the raw log file, the caller's hook, the readable screen. */
export interface LogRouting {
  show(source: string, entry: LogEntry, raw?: string): void;
  /** A logger for the stack's own components (emulator, bridges) routed like the functions'. */
  componentLogger(source: string, minSeverity: Severity): Logger;
}

export function routeLogs(
  o: {
    logFile: string | undefined;
    verbose: boolean;
    colour: boolean;
    print: (line: string) => void;
    onEntry: (source: string, entry: LogEntry) => void;
  },
  teardown: Teardown,
): LogRouting {
  const logFile = o.logFile ? createWriteStream(o.logFile, { flags: 'a', mode: 0o600 }) : undefined;
  if (logFile) teardown.add('log file', () => closeStream(logFile));
  const show = (source: string, entry: LogEntry, raw?: string) => {
    if (raw !== undefined) logFile?.write(`${raw}\n`);
    o.onEntry(source, entry);
    if (o.verbose || !isNoise(entry)) o.print(formatEntry(source, entry, { colour: o.colour }));
  };
  return {
    show,
    componentLogger: (source, minSeverity) =>
      createLogger({
        minSeverity,
        sink: {
          write: (line) => {
            const entry = parseLogLine(line);
            if (entry) show(source, entry, line);
          },
        },
      }),
  };
}

/**
 * Pub/Sub (the official emulator or the stand-in) and a client of it, with the pipeline's topics
 * and the bridges' subscriptions created before anything publishes: no message published while
 * the functions start (a rotation that came due while stopped) is lost.
 */
export async function startPubSubWithTopics(
  prefer: PubSubPreference,
  port: number,
  teardown: Teardown,
): Promise<{ pubsub: PubSubHandle; client: PubSub }> {
  const pubsub = await startPubSub({ prefer, port, projectId: LOCAL_PROJECT_ID });
  teardown.add('pubsub', () => pubsub.stop());
  teardown.ports.push(Number(pubsub.host.split(':').pop()));
  const client = new PubSub({
    projectId: LOCAL_PROJECT_ID,
    apiEndpoint: pubsub.host,
    emulatorMode: true,
    universeDomain: 'googleapis.com',
  });
  teardown.add('pubsub client', () => client.close());
  for (const { topic } of WIRING) {
    await createIfMissing(() => client.createTopic(topic));
    await createIfMissing(() => client.topic(topic).createSubscription(`eventarc-local-${topic}`));
  }
  return { pubsub, client };
}

/** The fake Databricks workspace with the demo's continuous job. */
export async function startDemoWorkspace(teardown: Teardown): Promise<FakeWorkspace> {
  const workspace = await startFakeWorkspace({
    // Databricks takes tens of seconds to restart a job; a few hundred ms shows the same story.
    timings: { continuousRestartMs: 500, cancelMs: 200, runStartMs: 200 },
  });
  teardown.add('fake Databricks workspace', () => workspace.close());
  teardown.ports.push(Number(new URL(workspace.url).port));
  workspace.jobs.add({ jobId: DEMO_JOB_ID, name: 'demo-continuous-etl', continuous: true });
  return workspace;
}

/** The Secret Manager emulator, its state in `stateFile`, notifying on `pubsubClient`. */
export async function startSecretManager(
  port: number,
  stateFile: string,
  pubsubClient: PubSub,
  logger: Logger,
  teardown: Teardown,
): Promise<SecretManagerEmulator> {
  const sm = await startSecretManagerEmulator({
    port,
    stateFile,
    relaxedRotationLimits: true,
    notifier: createPubSubNotifier(pubsubClient),
    logger,
  });
  teardown.add('secret manager emulator', () => sm.stop());
  teardown.ports.push(sm.port);
  return sm;
}

/** The settings each function process runs with, as a deployment sets them (docs/deploy.md). */
function functionEnv(env: StackEnv, logLevel: Severity, workspaceUrl: string) {
  return {
    ...env,
    ROTATION_EVENTS_TOPIC: `projects/${LOCAL_PROJECT_ID}/topics/${TOPICS.rotationEvents}`,
    LOG_LEVEL: logLevel,
    // A function killed mid-rotation holds its lease this long (the deployed default is the
    // 10-minute function timeout); login tests retry quickly on a local server.
    ROTATOR_LEASE_SECONDS: '60',
    ROTATOR_TEST_RETRY_MS: '200',
    // The demo's grace is seconds (--grace); deployments keep the 15-minute floor.
    ROTATOR_MIN_GRACE_PERIOD: '0s',
    // No metadata server here: without this, google-auth-library probes for one on the first
    // publish and prints a MetadataLookupWarning.
    METADATA_SERVER_DETECTION: 'none',
    // The deployment pins the demo's Databricks workspace and token secret (trust model).
    ROTATOR_DATABRICKS_HOSTS: workspaceUrl,
    ROTATOR_DATABRICKS_CREDENTIAL_SECRETS: DEMO_TOKEN_SECRET_ID,
  };
}

export interface FunctionsAndDemo {
  functions: FunctionProcess[];
  demo?: DemoSeed;
}

/**
 * The three functions as functions-framework processes, started while the demo secret is seeded
 * (they need nothing until their first event). Every function that started is registered for
 * stopping even when another, or the seeding, failed.
 */
export async function startFunctionsAndSeed(
  o: {
    compiled: boolean;
    logLevel: Severity;
    verbose: boolean;
    print: (line: string) => void;
    seed: boolean;
    periodMs: number;
    graceMs: number;
    firstRotationMs: number;
  },
  ports: number[],
  env: StackEnv,
  database: LocalDatabase,
  workspace: FakeWorkspace,
  smClient: SecretManagerServiceClient,
  logs: LogRouting,
  teardown: Teardown,
): Promise<FunctionsAndDemo> {
  const starting = Promise.allSettled(
    WIRING.map(({ target }, i) =>
      startFunctionProcess({
        target,
        port: ports[i] as number,
        compiled: o.compiled,
        env: functionEnv(env, o.logLevel, workspace.url),
        onLine: (line) => {
          const entry = parseLogLine(line);
          if (entry) logs.show(target, entry, line);
          else if (line.trim() !== '' && (o.verbose || !isBanner(line)))
            o.print(formatRaw(target, line));
        },
      }),
    ),
  );
  const seeding = o.seed
    ? seedDemo({
        client: smClient,
        projectId: LOCAL_PROJECT_ID,
        db: database,
        secretEventsTopic: `projects/${LOCAL_PROJECT_ID}/topics/${TOPICS.secretEvents}`,
        workspaceUrl: workspace.url,
        periodMs: o.periodMs,
        graceMs: o.graceMs,
        firstRotationMs: o.firstRotationMs,
        randomBytes,
        now: Date.now,
      })
    : Promise.resolve(undefined);
  const [started, seeded] = await Promise.allSettled([starting, seeding]);
  const functions: FunctionProcess[] = [];
  const failures: string[] = [];
  for (const r of started.status === 'fulfilled' ? started.value : []) {
    if (r.status === 'fulfilled') functions.push(r.value);
    else failures.push((r.reason as Error).message);
  }
  for (const f of functions) teardown.add(f.target, () => f.stop());
  teardown.ports.push(...ports);
  if (seeded.status === 'rejected') throw seeded.reason;
  if (failures.length > 0) throw new Error(`functions did not start: ${failures.join('; ')}`);
  const demo = seeded.value;
  if (demo) workspace.acceptToken(demo.databricksToken);
  return { functions, ...(demo ? { demo } : {}) };
}

/**
 * Eventarc's part: one bridge per topic, pushing to its function. Registered after the functions,
 * so they are stopped before them and nothing is delivered to a stopping process.
 */
export async function startBridges(
  pubsubHost: string,
  functions: FunctionProcess[],
  logger: Logger,
  teardown: Teardown,
): Promise<void> {
  const bridges: EventarcBridge[] = [];
  teardown.add('eventarc bridges', async () => {
    await Promise.all(bridges.map((b) => b.stop()));
  });
  for (const [i, { topic }] of WIRING.entries()) {
    bridges.push(
      await startEventarcBridge({
        pubsubHost,
        projectId: LOCAL_PROJECT_ID,
        topic,
        targetUrl: (functions[i] as FunctionProcess).url,
        deadLetterTopic: `${topic}-dead-letter`,
        maxDeliveryAttempts: 5,
        minBackoffMs: 1_000,
        maxBackoffMs: 10_000,
        logger,
      }),
    );
  }
}

/** Cloud Scheduler's part: a message on retire-tick every `tickMs`. */
export function startRetireTick(
  client: PubSub,
  tickMs: number,
  logs: LogRouting,
  teardown: Teardown,
): void {
  const topic = client.topic(TOPICS.retireTick);
  const tick = setInterval(() => {
    topic
      .publishMessage({ json: { source: 'local-stack', at: new Date().toISOString() } })
      .catch((err: unknown) =>
        logs.show('retire-tick', {
          severity: 'WARNING',
          message: `could not publish the retire tick: ${(err as Error).message}`,
        }),
      );
  }, tickMs);
  teardown.add('retire tick', async () => {
    clearInterval(tick);
    await topic.flush();
  });
}

// functions-framework prints its own startup banner; the stack says the same in one line.
const isBanner = (line: string) =>
  /^(Serving function\.\.\.|Function: |Signature type: |URL: )/.test(line.trim());

const ALREADY_EXISTS = 6;
async function createIfMissing(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if ((err as { code?: unknown }).code !== ALREADY_EXISTS) throw err;
  }
}

function closeStream(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => stream.end(() => resolve()));
}
