import { PubSub } from '@google-cloud/pubsub';
import { Command, InvalidArgumentError } from 'commander';
import { createLogger, type LogSink } from '../shared/logging/logger';
import { createPubSubNotifier, startSecretManagerEmulator } from './secret-manager';

/**
 * `npm run emulator -- --port 9090`: the Secret Manager emulator in the foreground. Prints exactly
 * one line on stdout, `SECRET_MANAGER_EMULATOR_HOST=127.0.0.1:9090`, once it listens; logs go to
 * stderr. Publishes notifications to Pub/Sub when PUBSUB_EMULATOR_HOST is set. Exits 0 on
 * SIGTERM/SIGINT.
 */
const port = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('not a port');
  return n;
};

const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('not a positive integer');
  return n;
};

const program = new Command('emulator')
  .description('Secret Manager emulator (gRPC, 127.0.0.1)')
  .option('--port <port>', 'port to listen on (0 picks a free one)', port, 9090)
  .option('--state-file <path>', 'keep state in this JSON file across restarts')
  .option(
    '--relaxed-rotation-limits',
    'allow rotation periods down to 1 s and any next rotation time',
    false,
  )
  .option(
    '--quotas',
    "enforce Secret Manager's request quotas (600 reads, 600 writes, 90,000 accesses per minute per project; per-secret write rates) with RESOURCE_EXHAUSTED",
    false,
  )
  .option(
    '--quota-minute-ms <ms>',
    'length of a quota minute in ms, to scale the quotas (default 60000)',
    positive,
  )
  .parse();

const opts = program.opts<{
  port: number;
  stateFile?: string;
  relaxedRotationLimits: boolean;
  quotas: boolean;
  quotaMinuteMs?: number;
}>();
if (opts.quotaMinuteMs !== undefined && !opts.quotas) {
  program.error('--quota-minute-ms needs --quotas');
}
const stderrSink: LogSink = { write: (line) => process.stderr.write(`${line}\n`) };
const logger = createLogger({ sink: stderrSink });

async function main(): Promise<void> {
  const pubsubHost = process.env.PUBSUB_EMULATOR_HOST;
  // emulatorMode + universeDomain: an insecure channel and no metadata-server probe (without the
  // universe domain, gax asks the metadata server, which can hang off Google Cloud).
  const pubsub = pubsubHost
    ? new PubSub({
        projectId: process.env.PUBSUB_PROJECT_ID ?? 'local',
        emulatorMode: true,
        universeDomain: 'googleapis.com',
      })
    : undefined;
  const emulator = await startSecretManagerEmulator({
    port: opts.port,
    relaxedRotationLimits: opts.relaxedRotationLimits,
    ...(opts.quotas
      ? { quotas: opts.quotaMinuteMs ? { minuteMs: opts.quotaMinuteMs } : true }
      : {}),
    logger,
    ...(opts.stateFile ? { stateFile: opts.stateFile } : {}),
    ...(pubsub ? { notifier: createPubSubNotifier(pubsub) } : {}),
  });
  process.stdout.write(`SECRET_MANAGER_EMULATOR_HOST=${emulator.address}\n`);
  logger.info('secret manager emulator ready', {
    address: emulator.address,
    notifications: pubsubHost ? `pubsub at ${pubsubHost}` : 'in-process only',
    stateFile: opts.stateFile ?? null,
    relaxedRotationLimits: opts.relaxedRotationLimits,
    quotas: opts.quotas ? { minuteMs: opts.quotaMinuteMs ?? 60_000 } : false,
  });

  const shutdown = async (signal: string) => {
    logger.info('secret manager emulator stopping', { signal });
    await emulator.stop();
    await pubsub?.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  logger.critical('secret manager emulator failed to start', { error: err });
  process.exit(1);
});
