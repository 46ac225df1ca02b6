import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { FakeWorkspace } from '../emulator/databricks/fake-workspace';
import type { PubSubPreference } from '../emulator/pubsub/choose-backend';
import { freePort } from '../emulator/pubsub/free-port';
import type { PubSubHandle } from '../emulator/pubsub/start';
import type { Severity } from '../shared/logging/logger';
import { readState } from '../shared/rotation/state';
import { createSecretManagerClient } from '../shared/secrets/client';
import { createGcpSecretStore } from '../shared/secrets/gcp-secret-store';
import type { SecretSnapshot, SecretStore } from '../shared/secrets/secret-store';
import { type LocalDatabase, startLocalDatabase } from './database';
import type { DemoSeed } from './demo-seed';
import { LocalStackError } from './errors';
import type { FunctionProcess } from './function-process';
import type { LogEntry } from './log-format';
import {
  LOCAL_PROJECT_ID,
  routeLogs,
  type StackEnv,
  startBridges,
  startDemoWorkspace,
  startFunctionsAndSeed,
  startPubSubWithTopics,
  startRetireTick,
  startSecretManager,
  TOPICS,
} from './stack-parts';
import { createStagingSecret } from './staging-secret';
import { Teardown } from './teardown';

export const DEFAULT_STATE_DIR = path.resolve(__dirname, '..', '.local-state');
export { LOCAL_PROJECT_ID, TOPICS };

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
  env: StackEnv;
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
  // Every port the stack would take, checked before anything starts: a second `npm start` says
  // so, instead of failing later in whichever piece happens to bind first.
  if (o.portBase > 0) await checkPortsFree(o.portBase, 6);
  const teardown = new Teardown();
  try {
    const logs = routeLogs(o, teardown);
    prepareStateDir(o.stateDir);
    const stateFile = path.join(o.stateDir, 'secret-manager.json');
    const database = await startLocalDatabase({
      ...(o.databaseUrl ? { url: o.databaseUrl } : {}),
      ...(o.portBase > 0 ? { port: o.portBase + 5 } : {}),
    });
    teardown.add('database', () => database.stop());
    if (database.source === 'throwaway') teardown.ports.push(database.port);
    const { pubsub, client: pubsubClient } = await startPubSubWithTopics(
      o.pubsub,
      await port(1),
      teardown,
    );
    const workspace = await startDemoWorkspace(teardown);
    const sm = await startSecretManager(
      await port(0),
      stateFile,
      pubsubClient,
      logs.componentLogger('secret-manager', o.verbose ? 'INFO' : 'WARNING'),
      teardown,
    );
    const env: StackEnv = {
      SECRET_MANAGER_EMULATOR_HOST: sm.address,
      PUBSUB_EMULATOR_HOST: pubsub.host,
      PUBSUB_PROJECT_ID: LOCAL_PROJECT_ID,
      GCP_PROJECT: LOCAL_PROJECT_ID,
    };
    const smClient = createSecretManagerClient({ env });
    teardown.add('secret manager client', () => smClient.close());
    env.ROTATOR_STAGING_SECRET = await createStagingSecret(smClient, LOCAL_PROJECT_ID);
    const { functions, demo } = await startFunctionsAndSeed(
      o,
      [await port(2), await port(3), await port(4)],
      env,
      database,
      workspace,
      smClient,
      logs,
      teardown,
    );
    await startBridges(
      pubsub.host,
      functions,
      logs.componentLogger('eventarc', o.verbose ? 'INFO' : 'WARNING'),
      teardown,
    );
    startRetireTick(pubsubClient, o.tickMs, logs, teardown);
    return stackHandle({
      env,
      pubsub,
      database,
      workspace,
      functions,
      stateFile,
      demo,
      store: createGcpSecretStore({ clientFor: () => smClient }),
      teardown,
    });
  } catch (err) {
    await teardown.stopAll().catch(() => undefined);
    throw err;
  }
}

/** The running stack as its callers see it; stop() stops everything once. */
function stackHandle(s: {
  env: StackEnv;
  pubsub: PubSubHandle;
  database: LocalDatabase;
  workspace: FakeWorkspace;
  functions: FunctionProcess[];
  stateFile: string;
  demo: DemoSeed | undefined;
  store: SecretStore;
  teardown: Teardown;
}): LocalStack {
  const { demo, database, store } = s;
  let stopping: Promise<void> | undefined;
  return {
    projectId: LOCAL_PROJECT_ID,
    env: s.env,
    pubsub: { kind: s.pubsub.kind, reason: s.pubsub.reason },
    database: {
      engine: database.engine,
      source: database.source,
      host: database.host,
      port: database.port,
    },
    workspace: s.workspace,
    functions: s.functions.map((f) => ({ target: f.target, url: f.url, pid: f.pid })),
    stateFile: s.stateFile,
    ...(demo ? { demo } : {}),
    ports: s.teardown.ports,
    async demoStatus() {
      if (!demo) return undefined;
      const snapshot: SecretSnapshot = await store.getSecret(demo.secret);
      return {
        secret: demo.secret,
        ...(snapshot.rotation?.nextRotationTime === undefined
          ? {}
          : { nextRotationTime: snapshot.rotation.nextRotationTime }),
        status: readState(snapshot.annotations).status,
        ...(snapshot.aliases.current === undefined ? {} : { current: snapshot.aliases.current }),
        ...(snapshot.aliases.previous === undefined ? {} : { previous: snapshot.aliases.previous }),
      };
    },
    stop() {
      stopping ??= s.teardown.stopAll();
      return stopping;
    },
  };
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
