import { randomUUID } from 'node:crypto';
import { ManualClock } from '../../../devtools/manual-clock';
import { CONFIG_KEYS, STATE_KEYS } from '../../../shared/config/annotations';
import { engineFor } from '../../../shared/engines/registry';
import { classifyMessage, type RotationRequest } from '../../../shared/events/rotation-request';
import { checkOverdue } from '../../../shared/retirement/overdue';
import { type RetireDeps, retireSecret } from '../../../shared/retirement/retire-secret';
import { handleRotationRequest } from '../../../shared/rotation/rotator';
import { nextTime, readSchedule, type Schedule } from '../../../shared/schedule/schedule';
import {
  createRotationHarness,
  type ManagedSecret,
  PROJECT,
  type RotationHarness,
} from '../../support/rotation-harness';
import { cliRunner } from '../cli/cli-runner';

/**
 * Cron schedules end to end on one controllable clock shared by the rotator and the Secret
 * Manager emulator (whose rotation clock sends SECRET_ROTATE when next_rotation_time is due),
 * with real PostgreSQL logins: rotation at the scheduled time and the next time set in the same
 * write, a late notification deferred, pause and resume, a changed schedule taking effect.
 */
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TOPIC = `projects/${PROJECT}/topics/secret-events`;
// Sundays 02:00 in Berlin: 2026-11-29 and 2026-12-06 02:00 CET are 01:00Z.
const SCHEDULE = {
  [CONFIG_KEYS.schedule]: '0 2 * * 0',
  [CONFIG_KEYS.timeZone]: 'Europe/Berlin',
  [CONFIG_KEYS.window]: '3h',
};
const SUNDAY = Date.parse('2026-11-29T01:00:00Z');
const NEXT_SUNDAY = SUNDAY + 7 * DAY;

const clock = new ManualClock(Date.parse('2026-11-28T12:00:00Z'));
let h: RotationHarness;
let retireDeps: RetireDeps;

beforeAll(async () => {
  h = await createRotationHarness({ clock, emulatorClock: clock });
  retireDeps = {
    store: h.store,
    engineFor: (n) => engineFor(n),
    clock,
    logger: h.deps.logger,
    newHolderId: () => randomUUID(),
    leaseMs: 60_000,
    overdueMarginMs: HOUR,
  };
});
afterAll(async () => {
  h.assertNoPasswordInLogs();
  await h.stop();
});

/** A managed PostgreSQL secret with a schedule, notifying the secret-events topic. */
async function scheduledSecret(annotations: Record<string, string> = SCHEDULE) {
  const secret = await h.createManagedSecret({
    engine: 'postgres',
    strategy: 'alternating-users',
    annotations,
  });
  await h.client.updateSecret({
    secret: { name: secret.name, topics: [{ name: TOPIC }] },
    updateMask: { paths: ['topics'] },
  });
  return secret;
}

const at = (ms: number) => {
  const delta = ms - clock.now();
  if (delta < 0) throw new Error('the test clock only moves forward');
  clock.advance(delta);
};
const tick = async (secret: ManagedSecret) =>
  retireSecret(await h.store.getSecret(secret.name), retireDeps);
const nextRotationTime = async (secret: ManagedSecret) =>
  (await h.store.getSecret(secret.name)).rotation?.nextRotationTime;

/** Let the emulator's rotation clock fire, and return this secret's SECRET_ROTATE as a request. */
function fire(secret: ManagedSecret): RotationRequest {
  h.emulator.checkRotations();
  const message = h.emulator.notifications.messages.find(
    (m) =>
      m.eventType === 'SECRET_ROTATE' && m.attributes.secretId === secret.name && !taken.has(m),
  );
  if (!message) throw new Error(`no SECRET_ROTATE for ${secret.name}`);
  taken.add(message);
  const classified = classifyMessage(
    {
      eventId: randomUUID(),
      messageId: randomUUID(),
      publishTime: clock.now(),
      attributes: message.attributes,
      body: typeof message.data === 'string' ? message.data : JSON.stringify(message.json ?? {}),
    },
    clock.now(),
  );
  if (classified.kind !== 'rotate') throw new Error('SECRET_ROTATE was not classified as rotate');
  return classified.request;
}
const taken = new Set<unknown>();
const onDemand = (secret: ManagedSecret): RotationRequest => ({
  secret: secret.name,
  trigger: 'on-demand',
  requestKey: `on-demand:${randomUUID()}`,
  requestedAt: clock.now(),
  requestedBy: 'bob',
});
const deferrals = (secret: ManagedSecret) =>
  h.sink
    .entries()
    .filter(
      (e) =>
        e.event === 'rotation.deferred' &&
        (e['logging.googleapis.com/labels'] as Record<string, string>)?.secret === secret.name,
    );
/** The next Sunday 02:00 Berlin after the test clock (tests share one clock, in file order). */
const nextSunday = () => nextTime(readSchedule(SCHEDULE) as Schedule, clock.now()) as number;

it('rotates at the scheduled time and sets the next one in the promote write', async () => {
  const secret = await scheduledSecret();
  // The retire tick gives a new scheduled secret its first next_rotation_time.
  await tick(secret);
  expect(await nextRotationTime(secret)).toBe(SUNDAY);

  at(SUNDAY + 30_000);
  const request = fire(secret);
  expect(request).toMatchObject({ trigger: 'schedule' });
  // Without a period nothing is left in the future: the emulator clears the fired schedule
  // (docs/secret-manager-emulator.md); a time left in the past would do as well.
  expect((await nextRotationTime(secret)) ?? 0).toBeLessThanOrEqual(clock.now());

  const writes = countUpdates();
  await expect(handleRotationRequest(request, h.deps)).resolves.toMatchObject({
    action: 'completed',
    version: 2,
  });
  const s = await h.snapshot(secret);
  expect(s.secret.aliases.current).toBe(2);
  await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
  expect(s.secret.rotation).toEqual({ nextRotationTime: NEXT_SUNDAY });
  // Claim, promote, announce: setting the next time cost no UpdateSecret of its own.
  expect(writes()).toBe(3);
  expect(checkOverdue(s.secret, SUNDAY + 6 * DAY, HOUR)).toEqual({ overdue: false });
  // A week later, the next notification rotates again.
  at(NEXT_SUNDAY + 10_000);
  await expect(handleRotationRequest(fire(secret), h.deps)).resolves.toMatchObject({
    action: 'completed',
    version: 3,
  });
});

it('defers a notification delivered after its window: acknowledged, not rotated, next time set', async () => {
  const secret = await scheduledSecret();
  await tick(secret);
  const sunday = nextSunday();
  at(sunday);
  const request = fire(secret);
  // Delivery delayed past the 3 h window (an outage, Pub/Sub retries).
  at(sunday + 3 * HOUR + MINUTE);
  await expect(handleRotationRequest(request, h.deps)).resolves.toEqual({ action: 'deferred' });
  const s = await h.snapshot(secret);
  expect(s.versions).toHaveLength(1);
  expect(s.state.status).toBe('idle');
  expect(s.secret.rotation?.nextRotationTime).toBe(sunday + 7 * DAY);
  expect(deferrals(secret)).toEqual([
    expect.objectContaining({
      severity: 'INFO',
      why: 'outside-window',
      scheduledAt: new Date(sunday).toISOString(),
      windowClosedAt: new Date(sunday + 3 * HOUR).toISOString(),
    }),
  ]);
  // The missed rotation is overdue once window and margin passed, which is what alerting wants.
  expect(checkOverdue(s.secret, clock.now() + HOUR, HOUR)).toMatchObject({ overdue: true });
  // An on-demand request rotates at once, window or not.
  await expect(handleRotationRequest(onDemand(secret), h.deps)).resolves.toMatchObject({
    action: 'completed',
  });
});

it('pause: scheduled notifications are acknowledged, on-demand still rotates; resume rotates again', async () => {
  const secret = await scheduledSecret();
  await tick(secret);
  const cli = cliRunner(h, { clock });
  const paused = await cli.run([
    'pause',
    secret.name,
    '--reason',
    'quarter close',
    '--by',
    'alice',
  ]);
  expect(paused.code).toBe(0);
  expect(paused.stdout).toMatch(/paused by alice at .*: quarter close/);

  const week = 7 * DAY;
  const t1 = nextSunday();
  at(t1);
  await expect(handleRotationRequest(fire(secret), h.deps)).resolves.toEqual({
    action: 'deferred',
  });
  expect(deferrals(secret)).toEqual([
    expect.objectContaining({ severity: 'INFO', why: 'paused', pausedBy: 'alice' }),
  ]);
  expect((await h.snapshot(secret)).versions).toHaveLength(1);
  // Notifications keep coming while paused: the next time is set.
  expect(await nextRotationTime(secret)).toBe(t1 + week);

  // status shows who paused it, when and why; the secret is not overdue.
  const status = await cli.run(['--json', 'status', secret.name]);
  const doc = JSON.parse(status.stdout) as {
    secrets: { state: string; paused: unknown; schedule: { next: string[] } }[];
  };
  expect(status.code).toBe(0);
  expect(doc.secrets[0]).toMatchObject({
    state: 'paused',
    paused: { by: 'alice', reason: 'quarter close' },
  });
  expect(doc.secrets[0]?.schedule.next[0]).toBe(
    new Date(t1 + week)
      .toISOString()
      .replace(/:00\.000Z$/, ':00+01:00')
      .replace('T01:', 'T02:'),
  );
  at(t1 + 2 * DAY);
  expect(checkOverdue(await h.store.getSecret(secret.name), clock.now(), HOUR)).toEqual({
    overdue: false,
  });
  // check reports a pause older than the allowed age.
  const check = await cli.run(['check', secret.name, '--max-pause-age', '1d']);
  expect(check.code).toBe(1);
  expect(check.stdout).toMatch(/FAIL\s+pause\s+paused by alice .*longer than 1d/);

  // On-demand still works while paused.
  await expect(handleRotationRequest(onDemand(secret), h.deps)).resolves.toMatchObject({
    action: 'completed',
    version: 2,
  });

  const resumed = await cli.run(['resume', secret.name]);
  expect(resumed.code).toBe(0);
  expect((await h.store.getSecret(secret.name)).annotations[STATE_KEYS.pause]).toBeUndefined();
  at(t1 + week);
  await expect(handleRotationRequest(fire(secret), h.deps)).resolves.toMatchObject({
    action: 'completed',
    version: 3,
  });
});

it('a changed schedule takes effect on the next tick, without a rotation', async () => {
  const secret = await scheduledSecret();
  await tick(secret);
  const before = await nextRotationTime(secret);
  expect(before).toBeGreaterThan(clock.now());
  // An operator moves the rotation to weekdays 04:30 New York time (gcloud or terraform).
  const fresh = await h.client.getSecret({ name: secret.name });
  await h.client.updateSecret({
    secret: {
      name: secret.name,
      annotations: {
        ...(fresh[0].annotations ?? {}),
        [CONFIG_KEYS.schedule]: '30 4 * * 1-5',
        [CONFIG_KEYS.timeZone]: 'America/New_York',
      },
    },
    updateMask: { paths: ['annotations'] },
  });
  await tick(secret);
  const after = (await nextRotationTime(secret)) as number;
  // 04:30 EST is 09:30Z; the next weekday after now.
  expect(new Date(after).toISOString()).toMatch(/T09:30:00\.000Z$/);
  expect(after).toBeLessThan(before as number);
  const s = await h.snapshot(secret);
  expect(s.versions).toHaveLength(1);
  expect(s.history).toEqual([]);
  // A second tick finds it right and writes nothing.
  const writes = countUpdates();
  await tick(secret);
  expect(writes()).toBe(0);
  // And the new time rotates.
  at(after + 5_000);
  await expect(handleRotationRequest(fire(secret), h.deps)).resolves.toMatchObject({
    action: 'completed',
  });
});

/** Count UpdateSecret calls from now on, by the rotator's store and the tick's; call to stop. */
function countUpdates(): () => number {
  let n = 0;
  const stores = [h.store, h.deps.store];
  const originals = stores.map((store) => store.updateSecret);
  stores.forEach((store, i) => {
    const original = originals[i] as typeof store.updateSecret;
    store.updateSecret = (snapshot, change) => {
      n++;
      return original(snapshot, change);
    };
  });
  return () => {
    stores.forEach((store, i) => {
      store.updateSecret = originals[i] as typeof store.updateSecret;
    });
    return n;
  };
}
