import { Server, ServerCredentials } from '@grpc/grpc-js';
import { type Clock, systemClock } from '../../shared/clock';
import { createLogger, type Logger } from '../../shared/logging/logger';
import { CallCounter } from './call-counter';
import { DelayedPointers } from './consistency';
import { processDue } from './due-changes';
import { createEtagSource } from './etag';
import { FaultInjector } from './faults';
import {
  createNotificationSink,
  Dispatcher,
  type NotificationSink,
  type Notifier,
} from './notifications';
import { loadState, saveState } from './persistence';
import { serviceDefinition } from './protos';
import { QuotaLimiter, type QuotaOptions } from './quotas';
import { RotationClock } from './rotation-clock';
import { SecretTable } from './secret-table';
import { createServiceImplementation } from './service';
import { PRODUCTION_LIMITS, RELAXED_LIMITS } from './validation';

export type { CallCounts } from './call-counter';
export { CallCounter, countingStore, difference } from './call-counter';
export type { EventType, SecretEvent } from './events';
export { EVENT_TYPES } from './events';
export type { FaultOptions, RpcMethod } from './faults';
export { FaultInjector, RPC_METHODS } from './faults';
export type {
  NotificationMessage,
  NotificationSink,
  Notifier,
  ReceivedNotification,
} from './notifications';
export { createNotificationSink } from './notifications';
export { createPubSubNotifier } from './pubsub-notifier';
export type { QuotaOptions } from './quotas';
export { quotaExceeded } from './quotas';
export type { RequestKind } from './request-kinds';
export { KIND_OF, REQUEST_KINDS } from './request-kinds';

export interface SecretManagerEmulatorOptions {
  /** 0 (the default) picks a free port. The server listens on 127.0.0.1 only. */
  port?: number;
  /** Time for create/expire/rotation/destroy decisions; timers run only with the system clock. */
  clock?: Clock;
  /** Also publish notifications here (e.g. createPubSubNotifier); `notifications` always records them. */
  notifier?: Notifier;
  /** Keep state in this JSON file (loaded at start, rewritten after every change). */
  stateFile?: string;
  /** Rotation period down to 1 s and any next_rotation_time; expiry and destroy TTL down to 1 s. */
  relaxedRotationLimits?: boolean;
  /** Alias and `latest` reads see the state as it was this long ago (eventual consistency). */
  aliasReadDelayMs?: number;
  /**
   * Enforce Secret Manager's request quotas (per project read/write/access per minute, per secret
   * and per version write rates) with RESOURCE_EXHAUSTED; `true` for production's figures, or
   * options to scale the minute or change a limit. Off by default.
   */
  quotas?: boolean | QuotaOptions;
  /** How often the system clock checks for due rotations; default 250 ms. */
  rotationCheckIntervalMs?: number;
  logger?: Logger;
}

export interface SecretManagerEmulator {
  host: string;
  port: number;
  /** `host:port`, the value for SECRET_MANAGER_EMULATOR_HOST. */
  address: string;
  /** Every notification published, in-process. */
  notifications: NotificationSink;
  faults: FaultInjector;
  /** Every request received, by kind and method (refused ones included). */
  calls: CallCounter;
  /** Requests refused for quota so far (0 without quota mode). */
  readonly quotaRefusals: number;
  /** Pause or resume quota mode (no effect without it); resuming starts from empty windows. */
  setQuotasEnabled(on: boolean): void;
  /** Processes rotations, expirations and scheduled destructions due by the clock, now. */
  checkRotations(): Promise<void>;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

export async function startSecretManagerEmulator(
  options: SecretManagerEmulatorOptions = {},
): Promise<SecretManagerEmulator> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ minSeverity: 'WARNING' });
  const persisted = options.stateFile ? loadState(options.stateFile) : undefined;
  const etags = createEtagSource(clock, persisted?.etagLast ?? 0);
  const secrets = new SecretTable({
    clock,
    etags,
    limits: options.relaxedRotationLimits ? RELAXED_LIMITS : PRODUCTION_LIMITS,
    ...(options.aliasReadDelayMs
      ? { pointers: new DelayedPointers(options.aliasReadDelayMs) }
      : {}),
  });
  if (persisted) secrets.load(persisted.secrets);

  const stateFile = options.stateFile;
  const persist = stateFile
    ? () => saveState(stateFile, { etagLast: etags.last, secrets: secrets.allSecrets() })
    : () => {};
  const notifications = createNotificationSink();
  const dispatcher = new Dispatcher(notifications, options.notifier, logger);
  const faults = new FaultInjector();
  const calls = new CallCounter();
  const quotas = options.quotas
    ? new QuotaLimiter(clock, options.quotas === true ? {} : options.quotas)
    : undefined;
  const rotationClock = new RotationClock(
    () => processDue(secrets),
    (events) => {
      dispatcher.dispatch(events);
      persist();
    },
  );

  const server = new Server();
  server.addService(
    serviceDefinition,
    createServiceImplementation({
      secrets,
      dispatcher,
      faults,
      calls,
      ...(quotas ? { quotas } : {}),
      afterChange: persist,
      logger,
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `${HOST}:${options.port ?? 0}`,
      ServerCredentials.createInsecure(),
      (err, p) => (err ? reject(err) : resolve(p)),
    );
  });
  // Whatever came due while the emulator was down happens first.
  rotationClock.check();
  if (clock === systemClock) rotationClock.start(options.rotationCheckIntervalMs ?? 250);

  let stopped: Promise<void> | undefined;
  return {
    host: HOST,
    port,
    address: `${HOST}:${port}`,
    notifications,
    faults,
    calls,
    get quotaRefusals() {
      return quotas?.refused ?? 0;
    },
    setQuotasEnabled(on) {
      quotas?.setEnabled(on);
    },
    async checkRotations() {
      rotationClock.check();
    },
    stop() {
      stopped ??= (async () => {
        rotationClock.stop();
        await new Promise<void>((resolve) => {
          // Clients may hold channels open; give in-flight calls a moment, then cut them.
          const force = setTimeout(() => server.forceShutdown(), 1000);
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
        persist();
        await options.notifier?.close?.();
      })();
      return stopped;
    },
  };
}
