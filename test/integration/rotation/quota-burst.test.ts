import { randomUUID } from 'node:crypto';
import { RetryLaterError, ThrottledError } from '../../../shared/errors';
import type { RotationRequest } from '../../../shared/events/rotation-request';
import { handleRotationRequest, type RotationResult } from '../../../shared/rotation/rotator';
import { withDeliveryBudget } from '../../../shared/runtime/delivery';
import {
  createRotationHarness,
  type ManagedSecret,
  type RotationHarness,
} from '../../support/rotation-harness';

/**
 * Throttling is not failure (issue 13): with the emulator's quotas on, a burst of rotations over
 * the per-project write quota and the per-secret write rate meets RESOURCE_EXHAUSTED, and still
 * every rotation completes with its attempt counter untouched and no rotation.failed logged.
 *
 * The quota minute is scaled to 5 s (per-second limits to 83 ms, the emulator scales both) and the
 * project write quota lowered to 45 per minute, so the burst of SECRETS rotations (about 7 writes
 * each) is over it (the harness's own setup runs with the quotas paused). Deliveries get 1.5 s to
 * wait out the quota, less than the minute: some hand the event back, as in production a long
 * throttle does, and are redelivered like Pub/Sub would.
 */
const MINUTE_MS = 5_000;
const SECRETS = 8;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
let h: RotationHarness;

beforeAll(async () => {
  h = await createRotationHarness({
    quotas: { minuteMs: MINUTE_MS, writePerMinute: 45 },
  });
});
afterAll(async () => {
  h.assertNoPasswordInLogs();
  await h.stop();
});

/** Pub/Sub for one request: redeliver on an expected wait, count the hand-backs for quota. */
async function deliver(
  request: RotationRequest,
  handedBack: { n: number },
): Promise<RotationResult> {
  for (let delivery = 1; delivery <= 50; delivery++) {
    try {
      return await handleRotationRequest(request, withDeliveryBudget(h.deps, 1_500));
    } catch (err) {
      // Pub/Sub redelivers whatever is thrown; only quota (and the wait it causes) is expected.
      if (!(err instanceof RetryLaterError)) throw err;
      if (err instanceof ThrottledError) handedBack.n++;
      await sleep(200 + Math.random() * 300);
    }
  }
  const state = (await h.store.getSecret(request.secret)).annotations['rotator.state'];
  const lines = h.sink
    .entries()
    .filter((e) => JSON.stringify(e).includes(request.secret.split('/').pop() ?? ''))
    .map(
      (e) => `${e.severity} ${e.event} ${e.message} ${JSON.stringify(e.error ?? '')} ${e.op ?? ''}`,
    );
  throw new Error(`${request.secret}: not done after 50 deliveries: ${state}\n${lines.join('\n')}`);
}

it('a burst over the write quota: RESOURCE_EXHAUSTED, yet every rotation completes on its first attempt', async () => {
  // Prepare: the secrets with the quotas paused; the burst starts from empty windows.
  h.emulator.setQuotasEnabled(false);
  const secrets: ManagedSecret[] = [];
  for (let i = 0; i < SECRETS; i++) {
    secrets.push(await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' }));
  }
  h.emulator.setQuotasEnabled(true);
  const refusedBefore = h.emulator.quotaRefusals;
  const handedBack = { n: 0 };

  // Act: every rotation at once.
  const results = await Promise.all(
    secrets.map((s) =>
      deliver(
        {
          secret: s.name,
          trigger: 'on-demand',
          requestKey: `on-demand:${randomUUID()}`,
          requestedAt: Date.now(),
        },
        handedBack,
      ),
    ),
  );

  // Assess: throttled for real (both the project quota and the per-secret rate)...
  const refusals = h.emulator.quotaRefusals - refusedBefore;
  process.stdout.write(
    `quota burst: ${SECRETS} rotations, ${refusals} RESOURCE_EXHAUSTED, ${handedBack.n} deliveries handed back\n`,
  );
  expect(refusals).toBeGreaterThan(0);
  const throttledOps = h.sink
    .entries()
    .filter((e) => e.event === 'secretmanager.throttled')
    .map((e) => String(e.op));
  expect(throttledOps.length).toBeGreaterThan(0);
  // ...and yet all completed, each on its first attempt, with no failure or retry logged.
  expect(results.map((r) => r.action)).toEqual(secrets.map(() => 'completed'));
  for (const s of secrets) {
    const snap = await h.snapshot(s);
    expect(snap.state.status).toBe('idle');
    expect(snap.state.rotation).toMatchObject({ outcome: 'succeeded', attempt: 1 });
    expect(snap.history[0]).toMatchObject({ outcome: 'succeeded', attempts: 1 });
    await expect(h.versionLogsIn(s, snap.secret.aliases.current as number)).resolves.toBe(true);
  }
  const bad = h.sink
    .entries()
    .filter((e) =>
      ['rotation.failed', 'rotation.unresolved', 'rotation.retry'].includes(String(e.event)),
    );
  expect(bad).toEqual([]);
}, 180_000);
