import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * A throwaway PostgreSQL cluster for tests: its own data directory in a temp dir, scram-sha-256
 * for every connection (the machine's pre-started cluster trusts any password, which would make
 * every rotation test pass falsely), 127.0.0.1 and a free port. About 1.5 s to start.
 */
export interface PostgresServer {
  host: string;
  port: number;
  adminUser: string;
  adminPassword: string;
  /** Fast shutdown, then remove the data directory. */
  stop(): Promise<void>;
  /** Stop at once (immediate mode: no checkpoint, clients cut), keeping the data. */
  kill(): Promise<void>;
  /** Start again after kill(), on the same port, with the same data. */
  start(): Promise<void>;
}

const run = promisify(execFile);
const PG_ROOT = '/usr/lib/postgresql';
const OS_USER = 'postgres';
const ADMIN_USER = 'postgres';
// A crashed test run must not leave a server behind; see startWatchdog.
const WATCHDOG_INTERVAL_S = 1;

async function findBinDir(): Promise<string> {
  const versions = await readdir(PG_ROOT).catch(() => [] as string[]);
  const sorted = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  const newest = sorted[0];
  if (newest === undefined) {
    throw new Error(
      `PostgreSQL server binaries not found under ${PG_ROOT}/*/bin: install the Debian package ` +
        '"postgresql" (apt-get install -y --no-install-recommends postgresql)',
    );
  }
  return path.join(PG_ROOT, newest, 'bin');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

async function osUserIds(name: string): Promise<{ uid: number; gid: number }> {
  const { stdout } = await run('id', ['-u', name]);
  const { stdout: gid } = await run('id', ['-g', name]);
  return { uid: Number(stdout.trim()), gid: Number(gid.trim()) };
}

/**
 * Watchdog: a detached shell that polls the parent's pid. When the parent is gone (a crashed or
 * killed jest process) while the directory still exists, it shuts the server down (SIGQUIT to the
 * postmaster = immediate shutdown) and removes the directory. A normal stop() removes the
 * directory first, so the watchdog then exits on its own. Chosen over process-exit hooks because
 * those do not run on SIGKILL, and over PR_SET_PDEATHSIG because Node cannot set it.
 */
function startWatchdog(dir: string, dataDir: string): void {
  const script = [
    'parent=$1; dir=$2; data=$3; interval=$4',
    'while kill -0 "$parent" 2>/dev/null && [ -d "$dir" ]; do sleep "$interval"; done',
    '[ -d "$dir" ] || exit 0',
    'pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null)',
    'if [ -n "$pid" ]; then kill -QUIT "$pid" 2>/dev/null; for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done; kill -KILL "$pid" 2>/dev/null; fi',
    'rm -rf "$dir"',
  ].join('\n');
  const child = spawn(
    'sh',
    ['-c', script, 'pg-watchdog', String(process.pid), dir, dataDir, String(WATCHDOG_INTERVAL_S)],
    { detached: true, stdio: 'ignore' },
  );
  child.unref();
}

export async function startPostgres(opts: { port?: number } = {}): Promise<PostgresServer> {
  const binDir = await findBinDir();
  const asRoot = process.getuid?.() === 0;
  // initdb and postgres refuse to run as root: run them as the postgres OS user.
  const as = (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', OS_USER, '--', cmd, ...args]) : run(cmd, args);

  const dir = await mkdtemp(path.join(tmpdir(), 'gsm-pg-'));
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  const pwFile = path.join(dir, 'pwfile');
  const adminPassword = randomBytes(18).toString('base64url');
  await mkdir(dataDir, { mode: 0o700 });
  await writeFile(pwFile, `${adminPassword}\n`, { mode: 0o600 });
  if (asRoot) {
    const { uid, gid } = await osUserIds(OS_USER);
    await Promise.all([dir, dataDir, pwFile].map((p) => chown(p, uid, gid)));
  }
  startWatchdog(dir, dataDir);

  const port = opts.port ?? (await freePort());
  const pgCtl = path.join(binDir, 'pg_ctl');
  const serverOptions = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    // A throwaway cluster: durability across an OS crash buys nothing, speed does. Commits stay
    // synchronous, so kill() (an immediate, crash-like stop) loses no committed transaction, as
    // with a real server that goes away.
    '-c fsync=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
  ].join(' ');
  const pgCtlStart = () =>
    as(pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', '30', '-o', serverOptions, 'start']);
  const pgCtlStop = (mode: 'fast' | 'immediate') =>
    as(pgCtl, ['-D', dataDir, '-m', mode, '-w', '-t', '30', 'stop']);

  try {
    await as(path.join(binDir, 'initdb'), [
      '-D',
      dataDir,
      '-U',
      ADMIN_USER,
      '--auth=scram-sha-256',
      `--pwfile=${pwFile}`,
      '--no-sync',
      '--no-instructions',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
    await rm(pwFile, { force: true });
    await pgCtlStart();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`could not start PostgreSQL in ${dir}: ${(err as Error).message}`);
  }

  let running = true;
  return {
    host: '127.0.0.1',
    port,
    adminUser: ADMIN_USER,
    adminPassword,
    async stop() {
      if (running) await pgCtlStop('fast').catch(() => pgCtlStop('immediate'));
      running = false;
      await rm(dir, { recursive: true, force: true });
    },
    async kill() {
      if (!running) return;
      await pgCtlStop('immediate');
      running = false;
    },
    async start() {
      if (running) return;
      await pgCtlStart();
      running = true;
    },
  };
}
