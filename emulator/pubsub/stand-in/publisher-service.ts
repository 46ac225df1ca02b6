import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Broker } from './broker';
import { page } from './paging';
import { unary } from './unary';

interface ListRequest {
  project?: string;
  topic?: string;
  pageSize?: number;
  pageToken?: string;
}

/** google.pubsub.v1.Publisher: what the project uses. The rest answers UNIMPLEMENTED. */
export function publisherHandlers(broker: Broker): UntypedServiceImplementation {
  return {
    CreateTopic: unary((req: { name?: string; labels?: Record<string, string> }) =>
      broker.createTopic(req),
    ),
    GetTopic: unary((req: { topic?: string }) => broker.getTopic(req.topic)),
    ListTopics: unary((req: ListRequest) => {
      const { items, nextPageToken } = page(
        broker.listTopics(req.project),
        req.pageSize,
        req.pageToken,
      );
      return { topics: items, nextPageToken };
    }),
    ListTopicSubscriptions: unary((req: ListRequest) => {
      const { items, nextPageToken } = page(
        broker.listTopicSubscriptions(req.topic),
        req.pageSize,
        req.pageToken,
      );
      return { subscriptions: items, nextPageToken };
    }),
    DeleteTopic: unary((req: { topic?: string }) => {
      broker.deleteTopic(req.topic);
      return {};
    }),
    Publish: unary((req: { topic?: string; messages?: unknown[] }) => ({
      messageIds: broker.publish(req.topic, req.messages ?? []),
    })),
  };
}
