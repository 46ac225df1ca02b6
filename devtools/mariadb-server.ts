import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { freePort } from './postgres-server';

/**
 * A throwaway MariaDB for tests: mariadb-install-db into a temp dir, mariadbd on 127.0.0.1 and a
 * free port, no option files read (--no-defaults), and an admin `root`@`%` with a real password.
 * About 2 s to start.
 */
export interface MariadbServer {
  host: string;
  port: number;
  adminUser: string;
  adminPassword: string;
  /** SIGTERM (clean shutdown), then remove the data directory. */
  stop(): Promise<void>;
  /** SIGKILL, keeping the data. */
  kill(): Promise<void>;
  /** Start again after kill(), on the same port, with the same data. */
  start(): Promise<void>;
}

const run = promisify(execFile);
const OS_USER = 'mysql';
const ADMIN_USER = 'root';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const WATCHDOG_INTERVAL_S = 1;
const BINARIES = ['/usr/bin/mariadb-install-db', '/usr/sbin/mariadbd'] as const;

async function requireBinaries(): Promise<void> {
  for (const bin of BINARIES) {
    await access(bin).catch(() => {
      throw new Error(
        `${bin} not found: install the Debian package "mariadb-server" ` +
          '(apt-get install -y --no-install-recommends mariadb-server)',
      );
    });
  }
}

/**
 * Watchdog: a detached shell that polls the parent's pid; when the parent is gone (a crashed or
 * killed jest process) while the directory still exists, it kills mariadbd (pid from its pid file,
 * so restarts are covered) and removes the directory. A normal stop() removes the directory
 * first, so the watchdog then exits on its own. Process-exit hooks do not run on SIGKILL and Node
 * cannot set PR_SET_PDEATHSIG, hence a separate process.
 */
function startWatchdog(dir: string, pidFile: string): void {
  const script = [
    'parent=$1; dir=$2; pidfile=$3; interval=$4',
    'while kill -0 "$parent" 2>/dev/null && [ -d "$dir" ]; do sleep "$interval"; done',
    '[ -d "$dir" ] || exit 0',
    'pid=$(cat "$pidfile" 2>/dev/null)',
    '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null',
    'rm -rf "$dir"',
  ].join('\n');
  spawn(
    'sh',
    [
      '-c',
      script,
      'mariadb-watchdog',
      String(process.pid),
      dir,
      pidFile,
      String(WATCHDOG_INTERVAL_S),
    ],
    { detached: true, stdio: 'ignore' },
  ).unref();
}

const sqlString = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

export interface MariadbOptions {
  port?: number;
  /**
   * Server plugins to install once the server is up (`INSTALL SONAME`, so they stay loaded across
   * restarts), e.g. `simple_password_check` or `auth_ed25519`; the library must exist in
   * /usr/lib/mysql/plugin (Debian's mariadb-server ships both).
   */
  plugins?: string[];
}

export async function startMariadb(opts: MariadbOptions = {}): Promise<MariadbServer> {
  await requireBinaries();
  const dir = await mkdtemp(path.join(tmpdir(), 'gsm-mariadb-'));
  const dataDir = path.join(dir, 'data');
  const pidFile = path.join(dir, 'mariadbd.pid');
  const errorLog = path.join(dir, 'error.log');
  const initFile = path.join(dir, 'init.sql');
  const adminPassword = randomBytes(18).toString('base64url');
  const port = opts.port ?? (await freePort());
  if (process.getuid?.() === 0) {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
      run('id', ['-u', OS_USER]),
      run('id', ['-g', OS_USER]),
    ]);
    await chown(dir, Number(uid.trim()), Number(gid.trim()));
  }
  startWatchdog(dir, pidFile);

  // Runs once, at the first start. The installer leaves root@localhost, root@127.0.0.1, root@::1
  // and root@<hostname> without a password: keep one TCP admin, root@'%', with a real password.
  await writeFile(
    initFile,
    [
      `DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1', 'root'@${sqlString(hostname())};`,
      `CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY ${sqlString(adminPassword)};`,
      `GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;`,
      `ALTER USER 'root'@'localhost' IDENTIFIED BY ${sqlString(adminPassword)};`,
    ].join('\n'),
    { mode: 0o644 },
  );

  let child: ChildProcess | undefined;
  const spawnServer = (withInit: boolean) => {
    const proc = spawn(
      '/usr/sbin/mariadbd',
      [
        '--no-defaults',
        `--user=${OS_USER}`,
        `--datadir=${dataDir}`,
        `--socket=${path.join(dir, 'mariadb.sock')}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--pid-file=${pidFile}`,
        `--log-error=${errorLog}`,
        '--skip-log-bin',
        '--skip-name-resolve',
        '--innodb-buffer-pool-size=32M',
        '--innodb-flush-log-at-trx-commit=0',
        '--max-connections=300',
        ...(withInit ? [`--init-file=${initFile}`] : []),
      ],
      { stdio: 'ignore' },
    );
    // The watchdog, not the parent's lifetime, bounds the server's; do not hold the event loop.
    proc.unref();
    child = proc;
    return proc;
  };

  const waitReady = async (proc: ChildProcess) => {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        const log = await readFile(errorLog, 'utf8').catch(() => '');
        throw new Error(
          `mariadbd exited during startup:\n${log.split('\n').slice(-15).join('\n')}`,
        );
      }
      try {
        const conn = await mysql.createConnection({
          host: '127.0.0.1',
          port,
          user: ADMIN_USER,
          password: adminPassword,
          connectTimeout: 1000,
        });
        await conn.end();
        return;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new Error(
            `mariadbd not ready after ${READY_TIMEOUT_MS} ms: ${(err as Error).message}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };

  const waitExit = (proc: ChildProcess, signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      proc.kill(signal);
    });

  try {
    await run('/usr/bin/mariadb-install-db', [
      '--no-defaults',
      `--user=${OS_USER}`,
      `--datadir=${dataDir}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ]);
    await waitReady(spawnServer(true));
    await rm(initFile, { force: true });
    if (opts.plugins?.length) {
      const conn = await mysql.createConnection({
        host: '127.0.0.1',
        port,
        user: ADMIN_USER,
        password: adminPassword,
      });
      try {
        for (const plugin of opts.plugins) await conn.query('INSTALL SONAME ?', [plugin]);
      } finally {
        await conn.end();
      }
    }
  } catch (err) {
    if (child) await waitExit(child, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw new Error(`could not start MariaDB in ${dir}: ${(err as Error).message}`);
  }

  return {
    host: '127.0.0.1',
    port,
    adminUser: ADMIN_USER,
    adminPassword,
    async stop() {
      if (child) await waitExit(child, 'SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
    async kill() {
      if (child) await waitExit(child, 'SIGKILL');
    },
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) return;
      await waitReady(spawnServer(false));
    },
  };
}
