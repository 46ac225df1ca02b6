import { status } from '@grpc/grpc-js';
import { resolveSubscription } from '../../../emulator/pubsub/stand-in/subscription-config';

const base = { name: 'projects/p/subscriptions/sub', topic: 'projects/p/topics/top' };
const exists = () => true;
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return { code: (err as { code: number }).code, message: (err as Error).message };
  }
  return undefined;
};

describe('resolveSubscription', () => {
  test('fills in the defaults GetSubscription shows', () => {
    const { resource, delivery } = resolveSubscription(base, exists);
    expect(delivery).toEqual({ ackDeadlineSeconds: 10, pushEndpoint: undefined });
    expect(resource).toMatchObject({
      ...base,
      ackDeadlineSeconds: 10,
      pushConfig: { pushEndpoint: '', attributes: {} },
      messageRetentionDuration: { seconds: '604800', nanos: 0 },
      state: 'ACTIVE',
    });
    expect(resource).not.toHaveProperty('deadLetterPolicy');
  });

  test('dead-letter and retry policies, with Pub/Sub ranges and defaults', () => {
    const { resource, delivery } = resolveSubscription(
      {
        ...base,
        deadLetterPolicy: { deadLetterTopic: 'projects/p/topics/dlt' },
        retryPolicy: { minimumBackoff: { seconds: '0', nanos: 200_000_000 } },
      },
      exists,
    );
    expect(delivery.deadLetter).toEqual({ topic: 'projects/p/topics/dlt', maxDeliveryAttempts: 5 });
    expect(delivery.retry).toEqual({ minBackoffMs: 200, maxBackoffMs: 600_000 });
    expect(resource.retryPolicy).toEqual({
      minimumBackoff: { seconds: '0', nanos: 200_000_000 },
      maximumBackoff: { seconds: '600', nanos: 0 },
    });
    expect(
      codeOf(() =>
        resolveSubscription(
          {
            ...base,
            deadLetterPolicy: { deadLetterTopic: 'projects/p/topics/dlt', maxDeliveryAttempts: 2 },
          },
          exists,
        ),
      ),
    ).toEqual({
      code: status.OUT_OF_RANGE,
      message:
        'The value for max_delivery_attempts is too small. You passed 2 in the request, but the minimum value is 5.',
    });
  });

  test('refuses bad names, a missing topic, out-of-range deadlines', () => {
    expect(
      codeOf(() => resolveSubscription({ ...base, topic: 'projects/p/topics/a' }, exists)),
    ).toEqual({
      code: status.INVALID_ARGUMENT,
      message: 'Invalid [topics] name: (name=projects/p/topics/a)',
    });
    expect(codeOf(() => resolveSubscription(base, () => false))?.code).toBe(status.NOT_FOUND);
    expect(
      codeOf(() => resolveSubscription({ ...base, ackDeadlineSeconds: 601 }, exists))?.code,
    ).toBe(status.INVALID_ARGUMENT);
    expect(
      codeOf(() =>
        resolveSubscription({ ...base, name: 'projects/p/subscriptions/goog-x' }, exists),
      )?.code,
    ).toBe(status.INVALID_ARGUMENT);
  });

  test('features the stand-in does not model are refused loudly', () => {
    for (const extra of [
      { filter: 'attributes.x = "1"' },
      { enableMessageOrdering: true },
      { enableExactlyOnceDelivery: true },
      { pushConfig: { pushEndpoint: 'http://x/', noWrapper: { writeMetadata: true } } },
    ]) {
      expect(codeOf(() => resolveSubscription({ ...base, ...extra }, exists))?.code).toBe(
        status.UNIMPLEMENTED,
      );
    }
  });
});
