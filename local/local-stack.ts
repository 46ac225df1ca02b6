import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { PubSub } from '@google-cloud/pubsub';
import type { PubSubPreference } from '../emulator/pubsub/choose-backend';
import { type EventarcBridge, startEventarcBridge } from '../emulator/pubsub/eventarc-bridge';
import { freePort } from '../emulator/pubsub/free-port';
import { type PubSubHandle, startPubSub } from '../emulator/pubsub/start';
import {
  createPubSubNotifier,
  type SecretManagerEmulator,
  startSecretManagerEmulator,
} from '../emulator/secret-manager';
import { createLogger, type Logger, type Severity } from '../shared/logging/logger';
import { readState } from '../shared/rotation/state';
import { createSecretManagerClient } from '../shared/secrets/client';
import { createGcpSecretStore, type SecretSnapshot } from '../shared/secrets/secret-store';
import {
  type FakeWorkspace,
  startFakeWorkspace,
} from '../test/support/fake-databricks/fake-workspace';
import { type LocalDatabase, startLocalDatabase } from './database';
import { DEMO_JOB_ID, DEMO_TOKEN_SECRET_ID, type DemoSeed, seedDemo } from './demo-seed';
import { LocalStackError } from './errors';
import { type FunctionProcess, startFunctionProcess } from './function-process';
import { formatEntry, formatRaw, isNoise, type LogEntry, parseLogLine } from './log-format';
import { createStagingSecret } from './staging-secret';

export const LOCAL_PROJECT_ID = 'gsm-rotator-local';
export const DEFAULT_STATE_DIR = path.resolve(__dirname, '..', '.local-state');

/** The topics of the deployed pipeline, and which function each one triggers. */
export const TOPICS = {
  secretEvents: 'secret-events',
  rotationEvents: 'rotation-events',
  retireTick: 'retire-tick',
} as const;
const WIRING = [
  { topic: TOPICS.secretEvents, target: 'rotateSecret' },
  { topic: TOPICS.rotationEvents, target: 'refreshConsumers' },
  { topic: TOPICS.retireTick, target: 'retireVersions' },
] as const;

export interface LocalStackOptions {
  /** Where the Secret Manager state file lives (default: <repo>/.local-state). */
  stateDir?: string;
  /**
   * Fixed ports from here on: Secret Manager, Pub/Sub, rotateSecret, refreshConsumers,
   * retireVersions, the throwaway PostgreSQL (base … base+5). 0 (the default) picks free ports.
   */
  portBase?: number;
  /** Rotation period of the demo secret (default 30 s). */
  periodMs?: number;
  /** Grace period before the previous credential is retired (default 10 s). */
  graceMs?: number;
  /** Interval of the retire tick (default 5 s). */
  tickMs?: number;
  /** How soon the first scheduled rotation of a newly seeded demo comes (default 5 s). */
  firstRotationMs?: number;
  /** Seed (or reuse) the demo secret (default true). */
  seed?: boolean;
  pubsub?: PubSubPreference;
  /** postgres://… / mysql://… / mariadb://… with an admin login; else a throwaway PostgreSQL. */
  databaseUrl?: string;
  /** Run the compiled functions (build/, after `npm run build`) instead of ts-node. */
  compiled?: boolean;
  /** The functions' LOG_LEVEL (default INFO). */
  logLevel?: Severity;
  /** Also print the lines an idle pipeline makes (debug, empty retire ticks, bridge retries). */
  verbose?: boolean;
  /** Readable log lines, as they happen (default: nowhere). */
  print?: (line: string) => void;
  /** Colour WARNING and ERROR in the readable lines (a terminal). */
  colour?: boolean;
  /**
   * Also append every raw Cloud Logging JSON line (the functions' and the stack's own) to this
   * file, which `gsm-rotator history SECRET --logs FILE` reads like an export of Cloud Logging.
   */
  logFile?: string;
  /** Every log entry of the functions and the stack's own components. */
  onEntry?: (source: string, entry: LogEntry) => void;
}

export interface DemoStatus {
  secret: string;
  nextRotationTime?: number;
  status: string;
  current?: number;
  previous?: number;
}

export interface LocalStack {
  projectId: string;
  /** What another terminal exports to use the stack (the CLI, gcloud-less scripts). */
  env: Record<
    'SECRET_MANAGER_EMULATOR_HOST' | 'PUBSUB_EMULATOR_HOST' | 'PUBSUB_PROJECT_ID' | 'GCP_PROJECT',
    string
  >;
  pubsub: { kind: PubSubHandle['kind']; reason: string };
  database: Pick<LocalDatabase, 'engine' | 'source' | 'host' | 'port'>;
  workspace: FakeWorkspace;
  functions: { target: string; url: string; pid: number }[];
  stateFile: string;
  demo?: DemoSeed;
  /** Every TCP port the stack listens on (to check that stop() freed them). */
  ports: number[];
  demoStatus(): Promise<DemoStatus | undefined>;
  stop(): Promise<void>;
}

interface Resolved {
  stateDir: string;
  portBase: number;
  periodMs: number;
  graceMs: number;
  tickMs: number;
  firstRotationMs: number;
  seed: boolean;
  pubsub: PubSubPreference;
  databaseUrl: string | undefined;
  compiled: boolean;
  logLevel: Severity;
  verbose: boolean;
  print: (line: string) => void;
  colour: boolean;
  logFile: string | undefined;
  onEntry: (source: string, entry: LogEntry) => void;
}

function resolve(o: LocalStackOptions): Resolved {
  return {
    stateDir: o.stateDir ?? DEFAULT_STATE_DIR,
    portBase: o.portBase ?? 0,
    periodMs: o.periodMs ?? 30_000,
    graceMs: o.graceMs ?? 10_000,
    tickMs: o.tickMs ?? 5_000,
    firstRotationMs: o.firstRotationMs ?? 5_000,
    seed: o.seed ?? true,
    pubsub: o.pubsub ?? 'auto',
    databaseUrl: o.databaseUrl,
    compiled: o.compiled ?? false,
    logLevel: o.logLevel ?? 'INFO',
    verbose: o.verbose ?? false,
    print: o.print ?? (() => {}),
    colour: o.colour ?? false,
    logFile: o.logFile,
    onEntry: o.onEntry ?? (() => {}),
  };
}

/**
 * The whole pipeline on this machine: the Secret Manager emulator (state in a file), Pub/Sub (the
 * official emulator or the in-process stand-in), the three functions as functions-framework
 * processes wired to their topics by Eventarc bridges, a retire tick, the fake Databricks
 * workspace with a continuous job, a database, and the demo secret. Whatever fails to start is
 * stopped again before the error is thrown.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const o = resolve(options);
  const port = async (offset: number) => (o.portBase > 0 ? o.portBase + offset : freePort());
  const cleanups: { name: string; run: () => Promise<void> }[] = [];
  const ports: number[] = [];
  const stopAll = async () => {
    const errors: string[] = [];
    for (const c of cleanups.splice(0).reverse()) {
      await c.run().catch((err: unknown) => errors.push(`${c.name}: ${(err as Error).message}`));
    }
    if (errors.length > 0)
      throw new Error(`local stack did not stop cleanly: ${errors.join('; ')}`);
  };

  // Every port the stack would take, checked before anything starts: a second `npm start` says
  // so, instead of failing later in whichever piece happens to bind first.
  if (o.portBase > 0) await checkPortsFree(o.portBase, 6);
  const logFile = o.logFile ? createWriteStream(o.logFile, { flags: 'a', mode: 0o600 }) : undefined;
  if (logFile) cleanups.push({ name: 'log file', run: () => closeStream(logFile) });
  const show = (source: string, entry: LogEntry, raw?: string) => {
    if (raw !== undefined) logFile?.write(`${raw}\n`);
    o.onEntry(source, entry);
    if (o.verbose || !isNoise(entry)) o.print(formatEntry(source, entry, { colour: o.colour }));
  };
  const componentLogger = (source: string, minSeverity: Severity): Logger =>
    createLogger({
      minSeverity,
      sink: {
        write: (line) => {
          const entry = parseLogLine(line);
          if (entry) show(source, entry, line);
        },
      },
    });

  try {
    prepareStateDir(o.stateDir);
    const stateFile = path.join(o.stateDir, 'secret-manager.json');

    const database = await startLocalDatabase({
      ...(o.databaseUrl ? { url: o.databaseUrl } : {}),
      ...(o.portBase > 0 ? { port: o.portBase + 5 } : {}),
    });
    cleanups.push({ name: 'database', run: () => database.stop() });
    if (database.source === 'throwaway') ports.push(database.port);

    const pubsub = await startPubSub({
      prefer: o.pubsub,
      port: await port(1),
      projectId: LOCAL_PROJECT_ID,
    });
    cleanups.push({ name: 'pubsub', run: () => pubsub.stop() });
    ports.push(Number(pubsub.host.split(':').pop()));
    const pubsubClient = new PubSub({
      projectId: LOCAL_PROJECT_ID,
      apiEndpoint: pubsub.host,
      emulatorMode: true,
      universeDomain: 'googleapis.com',
    });
    cleanups.push({ name: 'pubsub client', run: () => pubsubClient.close() });
    // Topics and the bridges' subscriptions exist before anything publishes, so no message
    // published while the functions start (a rotation that came due while stopped) is lost.
    for (const { topic } of WIRING) {
      await createIfMissing(() => pubsubClient.createTopic(topic));
      await createIfMissing(() =>
        pubsubClient.topic(topic).createSubscription(`eventarc-local-${topic}`),
      );
    }

    const workspace = await startFakeWorkspace({
      // Databricks takes tens of seconds to restart a job; a few hundred ms shows the same story.
      timings: { continuousRestartMs: 500, cancelMs: 200, runStartMs: 200 },
    });
    cleanups.push({ name: 'fake Databricks workspace', run: () => workspace.close() });
    ports.push(Number(new URL(workspace.url).port));
    workspace.jobs.add({ jobId: DEMO_JOB_ID, name: 'demo-continuous-etl', continuous: true });

    const sm: SecretManagerEmulator = await startSecretManagerEmulator({
      port: await port(0),
      stateFile,
      relaxedRotationLimits: true,
      notifier: createPubSubNotifier(pubsubClient),
      logger: componentLogger('secret-manager', o.verbose ? 'INFO' : 'WARNING'),
    });
    cleanups.push({ name: 'secret manager emulator', run: () => sm.stop() });
    ports.push(sm.port);

    const env = {
      SECRET_MANAGER_EMULATOR_HOST: sm.address,
      PUBSUB_EMULATOR_HOST: pubsub.host,
      PUBSUB_PROJECT_ID: LOCAL_PROJECT_ID,
      GCP_PROJECT: LOCAL_PROJECT_ID,
    };

    const smClient = createSecretManagerClient({ env });
    cleanups.push({ name: 'secret manager client', run: () => smClient.close() });
    // Where rotateSecret stages pending credentials (terraform creates it in a deployment).
    const stagingSecret = await createStagingSecret(smClient, LOCAL_PROJECT_ID);

    // The functions start while the demo is seeded: they need nothing until their first event.
    const functionPorts = [await port(2), await port(3), await port(4)];
    const functionsStarting = Promise.allSettled(
      WIRING.map(({ target }, i) =>
        startFunctionProcess({
          target,
          port: functionPorts[i] as number,
          compiled: o.compiled,
          env: {
            ...env,
            ROTATION_EVENTS_TOPIC: `projects/${LOCAL_PROJECT_ID}/topics/${TOPICS.rotationEvents}`,
            LOG_LEVEL: o.logLevel,
            // A function killed mid-rotation holds its lease this long (the deployed default is
            // the 10-minute function timeout); login tests retry quickly on a local server.
            ROTATOR_LEASE_SECONDS: '60',
            ROTATOR_TEST_RETRY_MS: '200',
            // The demo's grace is seconds (--grace); deployments keep the 15-minute floor.
            ROTATOR_MIN_GRACE_PERIOD: '0s',
            // No metadata server here: without this, google-auth-library probes for one on the
            // first publish and prints a MetadataLookupWarning.
            METADATA_SERVER_DETECTION: 'none',
            // The deployment pins the demo's Databricks workspace and token secret (trust model).
            ROTATOR_DATABRICKS_HOSTS: workspace.url,
            ROTATOR_DATABRICKS_CREDENTIAL_SECRETS: DEMO_TOKEN_SECRET_ID,
            ROTATOR_STAGING_SECRET: stagingSecret,
          },
          onLine: (line) => {
            const entry = parseLogLine(line);
            if (entry) show(target, entry, line);
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
    const [started, seeded] = await Promise.allSettled([functionsStarting, seeding]);
    const functions: FunctionProcess[] = [];
    const failures: string[] = [];
    for (const r of started.status === 'fulfilled' ? started.value : []) {
      if (r.status === 'fulfilled') functions.push(r.value);
      else failures.push((r.reason as Error).message);
    }
    for (const f of functions) cleanups.push({ name: f.target, run: () => f.stop() });
    ports.push(...functionPorts);
    if (seeded.status === 'rejected') throw seeded.reason;
    if (failures.length > 0) throw new Error(`functions did not start: ${failures.join('; ')}`);
    const demo = seeded.value;
    if (demo) workspace.acceptToken(demo.databricksToken);

    const bridgeLogger = componentLogger('eventarc', o.verbose ? 'INFO' : 'WARNING');
    const bridges: EventarcBridge[] = [];
    for (const [i, { topic }] of WIRING.entries()) {
      const bridge = await startEventarcBridge({
        pubsubHost: pubsub.host,
        projectId: LOCAL_PROJECT_ID,
        topic,
        targetUrl: (functions[i] as FunctionProcess).url,
        deadLetterTopic: `${topic}-dead-letter`,
        maxDeliveryAttempts: 5,
        minBackoffMs: 1_000,
        maxBackoffMs: 10_000,
        logger: bridgeLogger,
      });
      bridges.push(bridge);
    }
    // Stopped before the functions, so nothing is delivered to a stopping process.
    const bridgesIndex = cleanups.findIndex((c) => c.name === WIRING[0].target);
    cleanups.splice(bridgesIndex, 0, {
      name: 'eventarc bridges',
      run: async () => {
        await Promise.all(bridges.map((b) => b.stop()));
      },
    });

    // Cloud Scheduler's part: a message on retire-tick every tickMs.
    const tickTopic = pubsubClient.topic(TOPICS.retireTick);
    const tick = setInterval(() => {
      tickTopic
        .publishMessage({ json: { source: 'local-stack', at: new Date().toISOString() } })
        .catch((err: unknown) =>
          show('retire-tick', {
            severity: 'WARNING',
            message: `could not publish the retire tick: ${(err as Error).message}`,
          }),
        );
    }, o.tickMs);
    cleanups.push({
      name: 'retire tick',
      run: async () => {
        clearInterval(tick);
        await tickTopic.flush();
      },
    });

    const store = createGcpSecretStore({ clientFor: () => smClient });
    let stopping: Promise<void> | undefined;
    return {
      projectId: LOCAL_PROJECT_ID,
      env,
      pubsub: { kind: pubsub.kind, reason: pubsub.reason },
      database: {
        engine: database.engine,
        source: database.source,
        host: database.host,
        port: database.port,
      },
      workspace,
      functions: functions.map((f) => ({ target: f.target, url: f.url, pid: f.pid })),
      stateFile,
      ...(demo ? { demo } : {}),
      ports,
      async demoStatus() {
        if (!demo) return undefined;
        const s: SecretSnapshot = await store.getSecret(demo.secret);
        return {
          secret: demo.secret,
          ...(s.rotation?.nextRotationTime === undefined
            ? {}
            : { nextRotationTime: s.rotation.nextRotationTime }),
          status: readState(s.annotations).status,
          ...(s.aliases.current === undefined ? {} : { current: s.aliases.current }),
          ...(s.aliases.previous === undefined ? {} : { previous: s.aliases.previous }),
        };
      },
      stop() {
        stopping ??= stopAll();
        return stopping;
      },
    };
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
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

/**
 * The state folder holds the demo's passwords (the emulator's state file). It ignores itself: a
 * `.gitignore` of `*` inside it (as Python's venv does since 3.13), so wherever `--state-dir`
 * points, in this repository or another one, git never offers to commit it, with no git call and
 * no warning to overlook.
 */
export function prepareStateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ignore = path.join(dir, '.gitignore');
  if (!existsSync(ignore)) {
    writeFileSync(
      ignore,
      '# gsm-rotator local stack state: holds demo passwords; never commit it.\n*\n',
    );
  }
}

/** Rejects with what to do when any of `count` ports from `base` is taken on 127.0.0.1. */
export async function checkPortsFree(base: number, count: number): Promise<void> {
  const taken: number[] = [];
  for (let p = base; p < base + count; p++) {
    if (!(await portFree(p))) taken.push(p);
  }
  if (taken.length === 0) return;
  throw new LocalStackError(
    [
      `port(s) ${taken.join(', ')} of ${base}–${base + count - 1} are in use: is another \`npm start\` running?`,
      '  Stop it (Ctrl-C in its terminal), or run this one elsewhere:',
      `  npm start -- --port-base ${base + 100} --state-dir .local-state-2   (or --port-base 0 for free ports)`,
    ].join('\n'),
  );
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function closeStream(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => stream.end(() => resolve()));
}
