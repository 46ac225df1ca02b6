import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Broker } from './broker';
import { page } from './paging';
import { pullHandler } from './pull';
import { streamingPullHandler } from './streaming-pull';
import { unary } from './unary';

interface AckRequest {
  subscription?: string;
  ackIds?: string[];
  ackDeadlineSeconds?: number;
}

/** google.pubsub.v1.Subscriber: what the project uses. The rest answers UNIMPLEMENTED. */
export function subscriberHandlers(broker: Broker): UntypedServiceImplementation {
  return {
    CreateSubscription: unary((req: unknown) => broker.createSubscription(req)),
    GetSubscription: unary((req: { subscription?: string }) =>
      broker.getSubscription(req.subscription),
    ),
    ListSubscriptions: unary((req: { project?: string; pageSize?: number; pageToken?: string }) => {
      const { items, nextPageToken } = page(
        broker.listSubscriptions(req.project),
        req.pageSize,
        req.pageToken,
      );
      return { subscriptions: items, nextPageToken };
    }),
    DeleteSubscription: unary((req: { subscription?: string }) => {
      broker.deleteSubscription(req.subscription);
      return {};
    }),
    Acknowledge: unary((req: AckRequest) => {
      broker.queue(req.subscription).acknowledge(req.ackIds ?? []);
      return {};
    }),
    ModifyAckDeadline: unary((req: AckRequest) => {
      broker
        .queue(req.subscription)
        .modifyAckDeadline(req.ackIds ?? [], req.ackDeadlineSeconds ?? 0);
      return {};
    }),
    Pull: pullHandler(broker),
    StreamingPull: streamingPullHandler(broker),
  };
}
