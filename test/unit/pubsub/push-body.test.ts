import { pushBody } from '../../../emulator/pubsub/stand-in/push-delivery';

describe('pushBody', () => {
  test('is the wrapped push format the official emulator sends', () => {
    const received = {
      ackId: 'projects/p/subscriptions/s:1',
      deliveryAttempt: 0,
      message: {
        messageId: '7',
        data: Buffer.from('pp'),
        attributes: {},
        publishTime: { seconds: '1795812853', nanos: 301_000_000 },
        orderingKey: '',
      },
    };
    expect(JSON.parse(pushBody(received, 'projects/p/subscriptions/s'))).toEqual({
      message: {
        data: 'cHA=',
        attributes: {},
        messageId: '7',
        message_id: '7',
        publishTime: '2026-11-27T20:54:13.301Z',
        publish_time: '2026-11-27T20:54:13.301Z',
      },
      subscription: 'projects/p/subscriptions/s',
    });
    expect(JSON.parse(pushBody({ ...received, deliveryAttempt: 3 }, 's')).deliveryAttempt).toBe(3);
  });
});
