import { Server, ServerCredentials } from '@grpc/grpc-js';
import { type Clock, systemClock } from '../../../shared/clock';
import { Broker } from './broker';
import { publisherService, subscriberService } from './protos';
import { publisherHandlers } from './publisher-service';
import { PushConsumer } from './push-delivery';
import { subscriberHandlers } from './subscriber-service';

/** Lease expiry and backoff resolution: fine enough for sub-second test backoffs, cheap enough. */
const TICK_MS = 20;

export interface StandInOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  clock?: Clock;
}

export interface StandIn {
  /** `127.0.0.1:port`, for PUBSUB_EMULATOR_HOST. */
  host: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * The in-process Pub/Sub stand-in: a gRPC server on 127.0.0.1 speaking the Publisher and
 * Subscriber services from the official client's own protos, for machines without the official
 * emulator.
 */
export async function startStandIn(options: StandInOptions = {}): Promise<StandIn> {
  const clock = options.clock ?? systemClock;
  const broker = new Broker(clock, (queue, endpoint) => new PushConsumer(queue, endpoint));
  const server = new Server();
  server.addService(publisherService, publisherHandlers(broker));
  server.addService(subscriberService, subscriberHandlers(broker));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `127.0.0.1:${options.port ?? 0}`,
      ServerCredentials.createInsecure(),
      (err, bound) => (err ? reject(err) : resolve(bound)),
    );
  });
  const timer = setInterval(() => broker.tick(), TICK_MS);
  let stopped: Promise<void> | undefined;
  return {
    host: `127.0.0.1:${port}`,
    port,
    stop: () => {
      stopped ??= (async () => {
        clearInterval(timer);
        // Ends open StreamingPull streams and waiting Pulls, aborts push requests in flight.
        broker.close();
        server.forceShutdown();
      })();
      return stopped;
    },
  };
}
