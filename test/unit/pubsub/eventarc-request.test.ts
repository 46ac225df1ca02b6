import { toEventarcRequest } from '../../../emulator/pubsub/eventarc-bridge';

const message = {
  id: '4242',
  data: Buffer.from('{"name":"projects/p/secrets/db"}'),
  attributes: { eventType: 'SECRET_ROTATE', secretId: 'projects/p/secrets/db' },
  publishTime: new Date(Date.UTC(2026, 10, 27, 20, 54, 13, 301)),
};

describe('toEventarcRequest', () => {
  test('builds a binary-mode messagePublished CloudEvent exactly like Eventarc', () => {
    const request = toEventarcRequest(message, {
      projectId: 'test-project',
      topic: 'secret-events',
      subscription: 'eventarc-sub',
    });
    expect(request.headers).toEqual({
      'ce-specversion': '1.0',
      'ce-id': '4242',
      'ce-source': '//pubsub.googleapis.com/projects/test-project/topics/secret-events',
      'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
      'ce-time': '2026-11-27T20:54:13.301Z',
      'content-type': 'application/json',
    });
    expect(request.body).toEqual({
      message: {
        data: Buffer.from('{"name":"projects/p/secrets/db"}').toString('base64'),
        attributes: { eventType: 'SECRET_ROTATE', secretId: 'projects/p/secrets/db' },
        messageId: '4242',
        message_id: '4242',
        publishTime: '2026-11-27T20:54:13.301Z',
        publish_time: '2026-11-27T20:54:13.301Z',
      },
      subscription: 'projects/test-project/subscriptions/eventarc-sub',
    });
  });

  test('omits empty attributes and accepts full resource names', () => {
    const request = toEventarcRequest(
      { ...message, attributes: {}, orderingKey: 'k1' },
      {
        projectId: 'test-project',
        topic: 'projects/other-project/topics/rotation-events',
        subscription: 'projects/other-project/subscriptions/s-1',
      },
    );
    expect(request.body.message).not.toHaveProperty('attributes');
    expect(request.body.message.orderingKey).toBe('k1');
    expect(request.headers['ce-source']).toBe(
      '//pubsub.googleapis.com/projects/other-project/topics/rotation-events',
    );
    expect(request.body.subscription).toBe('projects/other-project/subscriptions/s-1');
  });

  test('refuses names Pub/Sub would refuse', () => {
    const target = { projectId: 'test-project', subscription: 'sub-1' };
    expect(() => toEventarcRequest(message, { ...target, topic: 'x' })).toThrow();
    expect(() => toEventarcRequest(message, { ...target, topic: 'a/b' })).toThrow();
    expect(() =>
      toEventarcRequest(message, { ...target, projectId: 'P', topic: 'secret-events' }),
    ).toThrow();
  });
});
