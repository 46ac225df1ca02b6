import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { OfficialEmulatorLocation } from './choose-backend';
import { watchProcessGroup } from './parent-death-watchdog';

/** Where google-cloud-cli's Debian/RPM packages put the emulator. */
export const DEFAULT_EMULATOR_BIN =
  '/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator';
const EMULATOR_IN_SDK = path.join('platform', 'pubsub-emulator', 'bin', 'cloud-pubsub-emulator');

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
// C1-only JIT and the serial GC: ready in ~0.85 s instead of ~1.3 s; throughput does not matter here.
const FAST_START_JVM_OPTS = '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC';

const isExecutable = (file: string) => {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

const onPath = (command: string, env: Record<string, string | undefined>) =>
  (env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, command))
    .find(isExecutable);

/**
 * Finds google-cloud-cli's Pub/Sub emulator: PUBSUB_EMULATOR_BIN if set (and then only there), else
 * the Debian package path, else next to a `gcloud` on PATH. The launcher script `exec`s java, so
 * java must be reachable too.
 */
export function locateOfficialEmulator(
  env: Record<string, string | undefined> = process.env,
  packagedPath = DEFAULT_EMULATOR_BIN,
): OfficialEmulatorLocation {
  const candidates = env.PUBSUB_EMULATOR_BIN
    ? [env.PUBSUB_EMULATOR_BIN]
    : [packagedPath, sdkEmulator(env)].filter((c): c is string => Boolean(c));
  const binary = candidates.find(isExecutable);
  if (!binary) {
    return { found: false, reason: `no official Pub/Sub emulator at ${candidates.join(' or ')}` };
  }
  const java = env.JAVA_HOME ? path.join(env.JAVA_HOME, 'bin', 'java') : onPath('java', env);
  if (!java || !isExecutable(java)) {
    return {
      found: false,
      reason: `the official Pub/Sub emulator at ${binary} needs java, not found`,
    };
  }
  return { found: true, binary };
}

function sdkEmulator(env: Record<string, string | undefined>): string | undefined {
  const gcloud = onPath('gcloud', env);
  if (!gcloud) return undefined;
  // <sdk>/bin/gcloud, often reached through a symlink in /usr/bin.
  return path.join(path.dirname(path.dirname(fs.realpathSync(gcloud))), EMULATOR_IN_SDK);
}

export interface OfficialEmulator {
  host: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts the emulator binary directly (one pid: the script execs java) in its own process group,
 * guarded by a parent-death watchdog, and resolves once it answers HTTP on its port. Its output
 * goes to a log file whose tail is quoted if it fails to start.
 */
export async function startOfficialEmulator(
  binary: string,
  port: number,
): Promise<OfficialEmulator> {
  const host = `127.0.0.1:${port}`;
  const logFile = path.join(os.tmpdir(), `gsm-pubsub-emulator-${process.pid}-${port}.log`);
  const logFd = fs.openSync(logFile, 'w');
  const child = spawn(binary, ['--host=127.0.0.1', `--port=${port}`], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: {
      ...process.env,
      CLOUD_PUBSUB_EMULATOR_OPTS: process.env.CLOUD_PUBSUB_EMULATOR_OPTS ?? FAST_START_JVM_OPTS,
    },
  });
  fs.closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) {
    fs.rmSync(logFile, { force: true });
    throw new Error(`could not start the Pub/Sub emulator at ${binary}`);
  }
  const watchdog = watchProcessGroup(pid);
  child.unref();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    watchdog.disarm();
    // Keep this process alive until the emulator is gone, then clean up.
    child.ref();
    if (child.exitCode === null && child.signalCode === null) {
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(logFile, { force: true });
  };

  try {
    await waitUntilReady(host, child);
  } catch (err) {
    const tail = readTail(logFile);
    await stop();
    throw new Error(`${(err as Error).message}${tail ? `; emulator output:\n${tail}` : ''}`);
  }
  let stopped: Promise<void> | undefined;
  return {
    host,
    pid,
    stop: () => {
      stopped ??= stop();
      return stopped;
    },
  };
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

function readTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-15).join('\n').trim();
  } catch {
    return '';
  }
}

/** The emulator answers `GET /` with "Ok" once its server is up. */
async function waitUntilReady(host: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `the Pub/Sub emulator exited during startup (code ${child.exitCode}, signal ${child.signalCode})`,
      );
    }
    if (await answersOk(host)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the Pub/Sub emulator did not answer on ${host} within ${READY_TIMEOUT_MS} ms`);
}

function answersOk(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`http://${host}/`, { agent: false, timeout: 500 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve(res.statusCode === 200 && body.trim() === 'Ok'));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
