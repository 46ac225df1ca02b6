import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { PUBSUB_PREFERENCES, type PubSubPreference } from '../emulator/pubsub/choose-backend';
import { parseDuration } from '../shared/config/duration';
import { parseSeverity } from '../shared/logging/logger';
import { banner } from './banner';
import { cleanupDemo } from './cleanup';
import { createScreen } from './console-screen';
import { DATABASE_URL_VARIABLE } from './database';
import { LocalStackError } from './errors';
import { type LocalStack, startLocalStack } from './local-stack';
import { shortSecret, wantsColour } from './log-format';

/**
 * `npm start`: the whole pipeline on this machine, in the foreground, until Ctrl-C. Everything it
 * prints goes to stdout; no line holds a secret value.
 */
const duration = (min: number) => (value: string) => {
  const ms = parseDuration(value);
  if (ms === undefined || ms < min) {
    throw new InvalidArgumentError(`a duration of at least ${min / 1000}s (e.g. 20s, 2m)`);
  }
  return ms;
};
const portBase = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_530) {
    throw new InvalidArgumentError('0 (free ports) or a port up to 65530');
  }
  return n;
};

const program = new Command('npm start')
  .description('gsm-rotator, the whole pipeline on this machine (no Google Cloud project needed)')
  .addOption(
    new Option('--period <duration>', 'rotation period of the demo secret')
      .default(30_000, '30s')
      .argParser(duration(5_000))
      .env('ROTATOR_LOCAL_PERIOD'),
  )
  .addOption(
    new Option('--grace <duration>', 'grace before the previous credential is retired')
      .default(10_000, '10s')
      .argParser(duration(1_000))
      .env('ROTATOR_LOCAL_GRACE'),
  )
  .addOption(
    new Option('--tick <duration>', 'retire tick interval (Cloud Scheduler in production)')
      .default(5_000, '5s')
      .argParser(duration(1_000))
      .env('ROTATOR_LOCAL_TICK'),
  )
  .addOption(
    new Option('--first-rotation <duration>', 'first rotation of a newly seeded demo comes after')
      .default(5_000, '5s')
      .argParser(duration(1_000)),
  )
  .option('--no-seed', 'do not create (or reuse) the demo secret')
  .addOption(
    new Option('--port-base <port>', 'fixed ports base..base+5 (0: free ports)')
      .default(9090)
      .argParser(portBase)
      .env('ROTATOR_LOCAL_PORT_BASE'),
  )
  .addOption(
    new Option('--state-dir <dir>', 'where the Secret Manager state is kept')
      .default(path.resolve(__dirname, '..', '.local-state'), '.local-state')
      .env('ROTATOR_LOCAL_STATE_DIR'),
  )
  .addOption(
    new Option('--pubsub <backend>', 'Pub/Sub backend')
      .choices(PUBSUB_PREFERENCES)
      .default('auto')
      .env('GSM_PUBSUB'),
  )
  .option('--compiled', 'run the compiled functions from build/ (after `npm run build`)', false)
  .addOption(
    new Option('--log-level <level>', 'the functions’ LOG_LEVEL').default('INFO').env('LOG_LEVEL'),
  )
  .option('--verbose', 'also show debug lines, empty retire ticks and delivery retries', false)
  .addOption(
    new Option(
      '--log-file <file>',
      'also append the raw JSON log lines to FILE (gsm-rotator history SECRET --logs FILE reads it)',
    ).env('ROTATOR_LOCAL_LOG_FILE'),
  )
  .option(
    '--cleanup',
    `remove what the demo left: its logins, owner role and table/database on the ${DATABASE_URL_VARIABLE} server, and the state folder's files; then exit`,
    false,
  )
  .addHelpText(
    'after',
    `
Database: ${DATABASE_URL_VARIABLE}=postgres://ADMIN:PASSWORD@HOST:5432/DB (or mysql://…, mariadb://…)
uses your server (the demo creates gsm_demo_* logins there); without it a throwaway PostgreSQL
(scram-sha-256) runs in a temp folder when the PostgreSQL server binaries are installed.
Done with the demo on your server: npm start -- --cleanup (same ${DATABASE_URL_VARIABLE}).`,
  )
  .parse();

interface Opts {
  period: number;
  grace: number;
  tick: number;
  firstRotation: number;
  seed: boolean;
  portBase: number;
  stateDir: string;
  pubsub: PubSubPreference;
  compiled: boolean;
  logLevel: string;
  verbose: boolean;
  logFile?: string;
  cleanup: boolean;
}
const opts = program.opts<Opts>();
const screen = createScreen();
async function main(): Promise<void> {
  const counts = { rotations: 0, refreshes: 0, retirements: 0 };
  let starting: Promise<LocalStack> | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      // A second Ctrl-C: leave at once; the watchdogs stop the child processes.
      process.exit(130);
    }
    stopping = true;
    screen.clearProgress();
    screen.line(`\n${signal}: stopping…`);
    try {
      // Stopped during start-up: let it finish starting, then stop all of it.
      const stack = await starting?.catch(() => undefined);
      await stack?.stop();
      screen.line('stopped.');
      process.exit(0);
    } catch (err) {
      screen.line(`error while stopping: ${(err as Error).message}`);
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  if (opts.cleanup) {
    for (const line of await cleanupDemo({
      stateDir: opts.stateDir,
      ...(process.env[DATABASE_URL_VARIABLE]
        ? { databaseUrl: process.env[DATABASE_URL_VARIABLE] }
        : {}),
    }))
      screen.line(line);
    process.exit(0);
  }
  screen.line('starting the local stack…');
  starting = startLocalStack({
    stateDir: opts.stateDir,
    portBase: opts.portBase,
    periodMs: opts.period,
    graceMs: opts.grace,
    tickMs: opts.tick,
    firstRotationMs: opts.firstRotation,
    seed: opts.seed,
    pubsub: opts.pubsub,
    ...(process.env[DATABASE_URL_VARIABLE]
      ? { databaseUrl: process.env[DATABASE_URL_VARIABLE] }
      : {}),
    compiled: opts.compiled,
    logLevel: parseSeverity(opts.logLevel),
    verbose: opts.verbose,
    print: (line) => screen.line(line),
    colour: wantsColour(process.stdout.isTTY, process.env),
    ...(opts.logFile ? { logFile: path.resolve(opts.logFile) } : {}),
    onEntry: (_source, entry) => {
      if (entry.event === 'rotation.completed') counts.rotations++;
      if (entry.event === 'refresh.completed') counts.refreshes++;
      if (entry.event === 'retire.version') counts.retirements++;
    },
  });
  const started = await starting;
  if (stopping) return;
  for (const line of banner(started, {
    periodMs: opts.period,
    graceMs: opts.grace,
    tickMs: opts.tick,
    ...(opts.logFile ? { logFile: path.resolve(opts.logFile) } : {}),
    cwd: process.cwd(),
  }))
    screen.line(line);

  const progress = async () => {
    if (stopping) return;
    const status = await started.demoStatus().catch(() => undefined);
    const tally = `rotations ${counts.rotations} · refreshes ${counts.refreshes} · retirements ${counts.retirements}`;
    if (!status) {
      screen.progress(`… waiting for events · ${tally}`);
    } else if (status.status === 'rotating') {
      screen.progress(`… ${shortSecret(status.secret)} rotating · ${tally}`);
    } else {
      const next = status.nextRotationTime;
      const inS =
        next === undefined ? undefined : Math.max(0, Math.ceil((next - Date.now()) / 1000));
      screen.progress(
        `… ${shortSecret(status.secret)} current v${status.current ?? '-'}${status.previous ? `, previous v${status.previous}` : ''} · next rotation ${inS === undefined ? 'not scheduled' : `in ${inS}s`} · ${tally}`,
      );
    }
  };
  setInterval(() => void progress(), 1000).unref();
}

main().catch((err: unknown) => {
  screen.clearProgress();
  if (err instanceof LocalStackError) process.stderr.write(`\n${err.message}\n`);
  else process.stderr.write(`\nerror: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
