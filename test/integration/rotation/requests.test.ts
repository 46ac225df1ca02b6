import { randomUUID } from 'node:crypto';
import type { DecodedMessage } from '../../../shared/events/pubsub-cloud-event';
import { classifyMessage, type RotationRequest } from '../../../shared/events/rotation-request';
import { handleRotationRequest } from '../../../shared/rotation/rotator';
import {
  createRotationHarness,
  type ManagedSecret,
  type RotationHarness,
} from '../../support/rotation-harness';

/**
 * Invariant 3, exactly: one request, one rotation, one announcement (which is what makes the
 * consumers refresh), whatever a request's timestamp says and however often it is re-published.
 */
let h: RotationHarness;
beforeAll(async () => {
  h = await createRotationHarness();
});
afterAll(async () => {
  h.assertNoPasswordInLogs();
  await h.stop();
});

function requestOf(msg: Omit<DecodedMessage, 'eventId' | 'body'> & { body?: string }) {
  const c = classifyMessage({ eventId: randomUUID(), body: '', ...msg }, Date.now());
  if (c.kind !== 'rotate') throw new Error('not a rotation request');
  return c.request;
}

async function assertOneRotation(secret: ManagedSecret) {
  const s = await h.snapshot(secret);
  expect(s.versions.map((v) => v.number)).toEqual([2, 1]);
  expect(s.secret.aliases).toEqual({ current: 2, previous: 1 });
  expect(s.history).toHaveLength(1);
  const announced = h.published.filter((p) => p.data.secret === secret.name);
  expect(announced).toHaveLength(1);
  await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
}

describe('one request, one rotation', () => {
  it('a SECRET_ROTATE whose timestamp lies in the future rotates once', async () => {
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'alternating-users',
    });
    const notification = (messageId: string): RotationRequest =>
      requestOf({
        messageId,
        publishTime: Date.now(),
        attributes: {
          eventType: 'SECRET_ROTATE',
          secretId: secret.name,
          dataFormat: 'JSON_API_V1',
          timestamp: new Date(Date.now() + 3_600_000).toISOString(),
        },
      });
    const first = notification('m1');
    await expect(handleRotationRequest(first, h.deps)).resolves.toMatchObject({
      action: 'completed',
      version: 2,
    });
    // Its redelivery, and Secret Manager's publish retry (same timestamp, new message id).
    await expect(handleRotationRequest(first, h.deps)).resolves.toEqual({ action: 'stale' });
    const retry = { ...notification('m2'), requestKey: first.requestKey };
    await expect(handleRotationRequest(retry, h.deps)).resolves.toEqual({ action: 'stale' });
    await assertOneRotation(secret);
  });

  it('a ROTATION_REQUESTED re-published with the same requestId rotates once', async () => {
    const secret = await h.createManagedSecret({
      engine: 'mariadb',
      strategy: 'alternating-users',
    });
    const publish = (messageId: string, publishTime: number) =>
      requestOf({
        messageId,
        publishTime,
        attributes: { eventType: 'ROTATION_REQUESTED', secretId: secret.name },
        body: JSON.stringify({ secret: secret.name, requestId: 'ticket-4711' }),
      });
    const first = await handleRotationRequest(publish('m1', Date.now() - 1), h.deps);
    expect(first).toMatchObject({ action: 'completed', version: 2 });
    // The client retries its publish a little later: new message id, new publish time.
    await new Promise((r) => setTimeout(r, 20));
    const again = await handleRotationRequest(publish('m2', Date.now()), h.deps);
    expect(again).toEqual({ action: 'stale' });
    expect(
      h.sink
        .entries()
        .some(
          (e) =>
            e.event === 'rotation.duplicate' &&
            e.rotationId === (first as { rotationId: string }).rotationId,
        ),
    ).toBe(true);
    await assertOneRotation(secret);
  });
});
