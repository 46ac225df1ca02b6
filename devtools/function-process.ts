import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import path from 'node:path';
import { freePort } from './postgres-server';

const ROOT = path.resolve(__dirname, '..');
/** How long a process may take to listen: ts-node compiles the sources first, slow under load. */
const READY_TIMEOUT_MS = 60_000;
// The package's exports map hides build/src/main.js; its bin entry is that file.
const FF_MAIN = path.join(ROOT, 'node_modules/@google-cloud/functions-framework/build/src/main.js');

export interface FunctionProcess {
  url: string;
  child: ChildProcess;
  output: string[];
  /** Resolves with the signal or exit code when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`function process exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error('function process did not listen in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A real functions-framework process (`functions-framework --target=NAME
 * --signature-type=cloudevent`), its TypeScript source loaded through ts-node. The node process is
 * started directly (not through npx), so killing it leaves no orphan.
 */
export async function startFunctionProcess(options: {
  source: string;
  target: string;
  env: Record<string, string>;
}): Promise<FunctionProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      FF_MAIN,
      `--target=${options.target}`,
      '--signature-type=cloudevent',
      `--port=${port}`,
      `--source=${path.resolve(ROOT, options.source)}`,
    ],
    { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  child.stdout?.on('data', (d: Buffer) => output.push(...d.toString().split('\n').filter(Boolean)));
  child.stderr?.on('data', (d: Buffer) => output.push(...d.toString().split('\n').filter(Boolean)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  try {
    await waitForPort(port, child, READY_TIMEOUT_MS);
  } catch (err) {
    // A process that did not listen in time is not left behind: it would keep the test run alive.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}/`,
    child,
    output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
