import { randomUUID } from 'node:crypto';
import { ManualClock } from '../../../devtools/manual-clock';
import { STATE_KEYS } from '../../../shared/config/annotations';
import { engineFor } from '../../../shared/engines/registry';
import type { RotationRequest } from '../../../shared/events/rotation-request';
import { type RetireDeps, retireSecret } from '../../../shared/retirement/retire-secret';
import { handleRotationRequest } from '../../../shared/rotation/rotator';
import { readState, withState } from '../../../shared/rotation/state';
import {
  createRotationHarness,
  type ManagedSecret,
  type RotationHarness,
} from '../../support/rotation-harness';

/**
 * The staging secret's retention (shared/retirement/destroy-staged.ts): the retire tick destroys
 * the staged copy of a finished rotation (destroyed, not disabled), and only that: the list it
 * works from lives on the managed secret, which its writers can edit, so an entry naming another
 * secret's staged credential or a version outside the staging secret is refused.
 */
const clock = new ManualClock(Date.now());
let h: RotationHarness;
let retireDeps: RetireDeps;

beforeAll(async () => {
  h = await createRotationHarness({ clock });
  retireDeps = {
    store: h.store,
    engineFor: (n) => engineFor(n),
    clock,
    logger: h.deps.logger,
    newHolderId: () => randomUUID(),
    leaseMs: 60_000,
    overdueMarginMs: 3_600_000,
    stagingSecrets: [h.stagingSecret],
  };
});
afterAll(async () => {
  h.assertNoPasswordInLogs();
  await h.stop();
});

async function rotate(secret: ManagedSecret) {
  clock.advance(1000);
  const request: RotationRequest = {
    secret: secret.name,
    trigger: 'on-demand',
    requestKey: `on-demand:${randomUUID()}`,
    requestedAt: clock.now(),
  };
  clock.advance(1000);
  await expect(handleRotationRequest(request, h.deps)).resolves.toMatchObject({
    action: 'completed',
  });
}

it('the retire tick destroys the staged copy of a promoted rotation, once', async () => {
  const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
  await rotate(secret);
  const [staged] = await h.stagedFor(secret);
  expect(staged?.state).toBe('ENABLED');
  // Within the grace window: nothing else is due, the staged copy goes anyway.
  await retireSecret(await h.store.getSecret(secret.name), retireDeps);
  expect((await h.stagedFor(secret)).map((v) => v.state)).toEqual(['DESTROYED']);
  const after = await h.snapshot(secret);
  expect(after.state.stagedToDestroy).toBeUndefined();
  // The managed secret keeps working: the promoted version is its own copy.
  await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
  // A second tick has nothing to do.
  const { calls } = await h.emulator.calls.during(async () => {
    await retireSecret(await h.store.getSecret(secret.name), retireDeps);
  });
  expect(calls.byMethod.destroySecretVersion ?? 0).toBe(0);
});

it("an entry naming another secret's staged credential, or a non-staging version, is refused", async () => {
  const victim = await h.createManagedSecret({
    engine: 'postgres',
    strategy: 'alternating-users',
  });
  const writer = await h.createManagedSecret({
    engine: 'postgres',
    strategy: 'alternating-users',
  });
  await rotate(victim);
  await rotate(writer);
  const [victimStaged] = await h.stagedFor(victim);
  const victimEntry = readState((await h.store.getSecret(victim.name)).annotations)
    .stagedToDestroy?.[0];
  if (!victimStaged || !victimEntry) throw new Error('no staged copy for the victim');
  // The writer's owner edits its own state: the victim's staged copy, and the victim's managed
  // version 2 (not in a staging secret), to be destroyed by "its" retirement.
  const w = await h.store.getSecret(writer.name);
  const state = readState(w.annotations);
  await h.store.updateSecret(w, {
    annotations: withState(w.annotations, {
      ...state,
      stagedToDestroy: [
        { ...victimEntry, rotationId: state.rotation?.id ?? 'x' },
        { secret: victim.name, version: 2, rotationId: state.rotation?.id ?? 'x' },
      ],
    }),
  });
  const from = h.sink.entries().length;
  // Act
  await retireSecret(await h.store.getSecret(writer.name), retireDeps);
  // Assess: nothing of the victim's was destroyed, both refusals were logged, the list is gone.
  expect((await h.stagedFor(victim)).map((v) => v.state)).toEqual(['ENABLED']);
  const v = await h.snapshot(victim);
  expect(v.versions.find((x) => x.number === 2)?.state).toBe('ENABLED');
  await expect(h.versionLogsIn(victim, 2)).resolves.toBe(true);
  const refused = h.sink
    .entries()
    .slice(from)
    .filter((e) => e.event === 'retire.staged-refused');
  expect(refused).toHaveLength(2);
  expect((await h.store.getSecret(writer.name)).annotations[STATE_KEYS.state]).not.toContain(
    'stagedToDestroy',
  );
  // The victim's own tick still destroys its own copy.
  await retireSecret(await h.store.getSecret(victim.name), retireDeps);
  expect((await h.stagedFor(victim)).map((x) => x.state)).toEqual(['DESTROYED']);
});
