import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { watchProcessGroup } from '../emulator/pubsub/parent-death-watchdog';

const ROOT = path.resolve(__dirname, '..');
// The package's exports map hides build/src/main.js; its bin entry is that file. Started with
// node directly (not npx), so stopping it leaves no grandchild behind.
const FF_MAIN = path.join(ROOT, 'node_modules/@google-cloud/functions-framework/build/src/main.js');
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;

export interface FunctionProcessOptions {
  /** The functions-framework target, e.g. rotateSecret. */
  target: string;
  port: number;
  env: Record<string, string>;
  /**
   * Run build/functions/index.js (after `npm run build`) with plain node instead of the
   * TypeScript sources through ts-node: about 0.3 s to listen instead of about 1 s.
   */
  compiled?: boolean;
  /** Each line the process writes, as it comes. */
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface FunctionProcess {
  target: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The source functions-framework loads: the TypeScript entry, or the compiled one. */
export function functionSource(compiled: boolean): string {
  if (!compiled) return path.join(ROOT, 'functions/index.ts');
  const built = path.join(ROOT, 'build/functions/index.js');
  if (!existsSync(built)) throw new Error(`${built} not found: run \`npm run build\` first`);
  return built;
}

export function functionArgs(target: string, port: number, source: string): string[] {
  return [
    ...(source.endsWith('.ts') ? ['-r', 'ts-node/register/transpile-only'] : []),
    FF_MAIN,
    `--target=${target}`,
    '--signature-type=cloudevent',
    `--port=${port}`,
    `--source=${source}`,
  ];
}

export function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(
          new Error(`process exited (${child.exitCode ?? child.signalCode}) before listening`),
        );
        return;
      }
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > end) reject(new Error(`nothing listened on port ${port} in time`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/**
 * One function as Cloud Functions runs it: its own functions-framework process on 127.0.0.1:port.
 * The process gets its own process group, watched by a tiny shell that kills the group if this
 * process dies without stopping it (SIGKILL, crash), so a stack never leaves functions behind.
 */
export async function startFunctionProcess(
  options: FunctionProcessOptions,
): Promise<FunctionProcess> {
  const source = functionSource(options.compiled ?? false);
  const child = spawn(process.execPath, functionArgs(options.target, options.port, source), {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${options.target}`);
  const watchdog = watchProcessGroup(pid);
  for (const stream of ['stdout', 'stderr'] as const) {
    const input = child[stream];
    if (input) createInterface({ input }).on('line', (line) => options.onLine(line, stream));
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      signalGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    watchdog.disarm();
  };

  try {
    await waitForPort(options.port, child, READY_TIMEOUT_MS);
  } catch (err) {
    await stop();
    throw new Error(`${options.target}: ${(err as Error).message}`);
  }
  return { target: options.target, url: `http://127.0.0.1:${options.port}/`, pid, stop };
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is already gone.
  }
}
