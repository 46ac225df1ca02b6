import { onDemandRequest, pubsubCloudEvent, secretNotification } from '../../../devtools/events';
import { decodePubSubEvent, InvalidEventError } from '../../../shared/events/pubsub-cloud-event';
import { classifyMessage } from '../../../shared/events/rotation-request';

const SECRET = 'projects/test-project/secrets/orders-db';

// The worker's clock at delivery: after every timestamp used below.
const NOW = Date.parse('2026-11-28T00:00:00Z');
const classify = (event: unknown) => classifyMessage(decodePubSubEvent(event), NOW);

describe('decodePubSubEvent + classifyMessage', () => {
  it('turns SECRET_ROTATE into a scheduled request keyed by Secret Manager timestamp', () => {
    const e = pubsubCloudEvent(
      secretNotification('SECRET_ROTATE', SECRET, {
        timestamp: '2026-11-27T10:00:00.081104-08:00',
      }),
    );
    const c = classify(e);
    expect(c).toEqual({
      kind: 'rotate',
      request: {
        secret: SECRET,
        trigger: 'schedule',
        requestKey: 'schedule:2026-11-27T10:00:00.081104-08:00',
        requestedAt: Date.parse('2026-11-27T18:00:00.081Z'),
        requestedBy: 'rotation-schedule',
      },
    });
  });

  it('never trusts a request time later than the delivery (a forged or skewed timestamp)', () => {
    const future = secretNotification('SECRET_ROTATE', SECRET, {
      timestamp: '2027-01-01T00:00:00Z',
    });
    const published = classify(
      pubsubCloudEvent({ ...future, publishTime: '2026-11-27T12:00:00Z' }),
    );
    expect(published.kind === 'rotate' && published.request.requestedAt).toBe(
      Date.parse('2026-11-27T12:00:00Z'),
    );
    // The publish time itself is never later than the worker's clock.
    const skewed = classify(pubsubCloudEvent({ ...future, publishTime: '2026-12-01T00:00:00Z' }));
    expect(skewed.kind === 'rotate' && skewed.request.requestedAt).toBe(NOW);
    // The key is still Secret Manager's timestamp: its publish retries stay one request.
    expect(published.kind === 'rotate' && published.request.requestKey).toBe(
      'schedule:2027-01-01T00:00:00Z',
    );
  });

  it('gives duplicates of a Secret Manager publish retry (new message id) the same key', () => {
    const n = secretNotification('SECRET_ROTATE', SECRET, { timestamp: '2026-11-27T10:00:00Z' });
    const a = classify(pubsubCloudEvent({ ...n, messageId: '1' }));
    const b = classify(pubsubCloudEvent({ ...n, messageId: '2' }));
    expect(a).toEqual(b);
  });

  it('turns an on-demand request into a request keyed by its id or message id', () => {
    const e = pubsubCloudEvent({
      ...onDemandRequest(SECRET, {
        reason: 'leaked in a notebook',
        requestedBy: 'alice@example.com',
      }),
      messageId: '42',
      publishTime: '2026-11-27T18:00:00Z',
    });
    expect(classify(e)).toEqual({
      kind: 'rotate',
      request: {
        secret: SECRET,
        trigger: 'on-demand',
        requestKey: 'on-demand:42',
        requestedAt: Date.parse('2026-11-27T18:00:00Z'),
        requestedBy: 'alice@example.com',
        reason: 'leaked in a notebook',
      },
    });
    const withId = classify(pubsubCloudEvent(onDemandRequest(SECRET, { requestId: 'ticket-7' })));
    expect(withId.kind === 'rotate' && withId.request.requestKey).toBe('on-demand:ticket-7');
  });

  it.each([
    'SECRET_VERSION_ADD',
    'SECRET_UPDATE',
    'SECRET_VERSION_DISABLE',
    'SECRET_VERSION_DESTROY',
    'SECRET_CREATE',
    'SECRET_DELETE',
  ])('ignores %s (our own writes re-enter the topic)', (type) => {
    const c = classify(
      pubsubCloudEvent(secretNotification(type, SECRET, { versionId: `${SECRET}/versions/3` })),
    );
    expect(c).toEqual({ kind: 'ignore', eventType: type, secret: SECRET });
  });

  it('reads structured-mode events and Eventarc snake_case fields', () => {
    const e = pubsubCloudEvent(secretNotification('SECRET_ROTATE', SECRET));
    const message = (e.data as { message: Record<string, unknown> }).message;
    delete message.messageId;
    delete message.publishTime;
    const decoded = decodePubSubEvent(e);
    expect(decoded.messageId).toBe(message.message_id);
    expect(decoded.publishTime).toBe(Date.parse(String(message.publish_time)));
  });

  it.each<[string, unknown]>([
    ['no event at all', undefined],
    ['an empty object (functions-framework without ce headers)', {}],
    [
      'another event type',
      { ...pubsubCloudEvent({ data: 'x' }), type: 'google.cloud.storage.object.v1.finalized' },
    ],
    ['no message', { id: '1', type: 'google.cloud.pubsub.topic.v1.messagePublished', data: {} }],
    [
      'bad base64',
      {
        id: '1',
        type: 'google.cloud.pubsub.topic.v1.messagePublished',
        data: { message: { data: '%%%not-base64', attributes: { eventType: 'SECRET_ROTATE' } } },
      },
    ],
    ['no attributes', pubsubCloudEvent({ data: { secret: SECRET } })],
    [
      'attributes of the wrong type',
      {
        ...pubsubCloudEvent({ data: 'x' }),
        data: { message: { data: '', attributes: { eventType: 5 } } },
      },
    ],
    [
      'SECRET_ROTATE without secretId',
      pubsubCloudEvent({ data: 'x', attributes: { eventType: 'SECRET_ROTATE' } }),
    ],
    [
      'a malformed secret id',
      pubsubCloudEvent(secretNotification('SECRET_ROTATE', 'projects/p/secrets/a b')),
    ],
    [
      'an on-demand body that is not JSON',
      pubsubCloudEvent({ data: 'rotate please', attributes: { eventType: 'ROTATION_REQUESTED' } }),
    ],
    [
      'an on-demand body without secret',
      pubsubCloudEvent({ data: { reason: 'x' }, attributes: { eventType: 'ROTATION_REQUESTED' } }),
    ],
    [
      'an on-demand body for a different secret than its attribute',
      pubsubCloudEvent({
        data: { secret: SECRET },
        attributes: { eventType: 'ROTATION_REQUESTED', secretId: `${SECRET}-other` },
      }),
    ],
    [
      'an on-demand secret with path traversal',
      pubsubCloudEvent(onDemandRequest('projects/p/secrets/../../x')),
    ],
  ])('rejects %s with InvalidEventError', (_name, event) => {
    expect(() => classify(event)).toThrow(InvalidEventError);
  });
});
