import { pubsubCloudEvent, secretNotification } from '../../../devtools/events';
import { makeRotateSecret } from '../../../functions/rotate-secret';
import type { DatabaseEngine } from '../../../shared/engines/engine';
import { createRotationHarness, type RotationHarness } from '../../support/rotation-harness';

/**
 * A duplicate delivery that finds the secret busy is an expected wait, not a fault: one INFO line,
 * an answer that makes Pub/Sub redeliver, and nothing at WARNING or above, so that
 * `severity>=WARNING` in Logs Explorer keeps meaning that something is wrong.
 */
let h: RotationHarness;
let release: () => void = () => undefined;
const held = new Promise<void>((resolve) => {
  release = resolve;
});
let reachedDatabase: () => void = () => undefined;
const inDatabase = new Promise<void>((resolve) => {
  reachedDatabase = resolve;
});

beforeAll(async () => {
  // The first rotation stops at its first login attempt (step set) until the test lets it go.
  h = await createRotationHarness({
    wrapEngine: (engine) => {
      const held_: DatabaseEngine = Object.create(engine);
      held_.tryLogin = async (...args) => {
        reachedDatabase();
        await held;
        return engine.tryLogin(...args);
      };
      return held_;
    },
  });
});

afterAll(async () => {
  release();
  h.assertNoPasswordInLogs();
  await h.stop();
});

it('a delivery that finds a rotation in progress logs one INFO line and asks for redelivery', async () => {
  // Prepare: one delivery holds the rotation's lease, stopped in the database step.
  const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
  const rotateSecret = makeRotateSecret(() => h.deps);
  const event = pubsubCloudEvent(secretNotification('SECRET_ROTATE', secret.name));
  const first = rotateSecret(event);
  await inDatabase;
  const from = h.sink.lines.length;
  // Act: Pub/Sub delivers the same event again.
  const duplicate = await rotateSecret(event).then(
    () => 'ack',
    () => 'redeliver',
  );
  // Assess
  const lines = h.sink.entries().slice(from);
  expect(duplicate).toBe('redeliver');
  expect(lines).toEqual([
    expect.objectContaining({
      severity: 'INFO',
      event: 'event.retry-later',
      message: expect.stringContaining('holds the secret until'),
    }),
  ]);
  // The rotation itself completes, and the redelivery then finds nothing to do.
  release();
  await first;
  await expect(rotateSecret(event)).resolves.toBeUndefined();
  expect((await h.store.listVersions(secret.name)).map((v) => v.number)).toEqual([2, 1]);
});
