import { status } from '@grpc/grpc-js';
import {
  AUTOMATIC,
  at,
  failure,
  type ManualClock,
  manualClock,
  type Rig,
  seconds,
  startRig,
  TOPIC,
} from './harness';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('SM emulator: rotation schedule and clock', () => {
  let rig: Rig;
  let clock: ManualClock;
  let n = 0;
  beforeAll(async () => {
    clock = manualClock();
    rig = await startRig({ clock });
  });
  afterAll(() => rig.stop());
  beforeEach(() => rig.emulator.notifications.clear());

  const create = (secret: Record<string, unknown>) =>
    rig.client.createSecret({
      parent: 'projects/p',
      secretId: `rotation-${n++}`,
      secret: { replication: AUTOMATIC, ...secret },
    });
  /** SECRET_ROTATE messages of one secret (other tests' secrets rotate on the same clock). */
  const rotates = (secretName: string | null | undefined) =>
    rig.emulator.notifications.messages.filter(
      (m) => m.eventType === 'SECRET_ROTATE' && m.attributes.secretId === secretName,
    );

  it('holds the schedule to production limits', async () => {
    const topics = [{ name: TOPIC }];
    const cases: [Record<string, unknown>, number, string][] = [
      [
        { rotation: { nextRotationTime: at(clock, HOUR), rotationPeriod: seconds(3600) } },
        status.INVALID_ARGUMENT,
        'There must be at least one topic configured when a Rotation policy is set.',
      ],
      [
        { topics, rotation: { nextRotationTime: at(clock, 4 * MINUTE) } },
        status.INVALID_ARGUMENT,
        'Next rotation time must be at least [5m] in the future.',
      ],
      [
        { topics, rotation: { nextRotationTime: at(clock, HOUR), rotationPeriod: seconds(3599) } },
        status.INVALID_ARGUMENT,
        'Rotation period cannot be shorter than [1h].',
      ],
      [
        { topics, rotation: { rotationPeriod: seconds(3600) } },
        status.FAILED_PRECONDITION,
        'Next rotation time must be set while the rotation period is set.',
      ],
    ];
    for (const [secret, code, details] of cases) {
      expect(await failure(create(secret))).toEqual({ code, details });
    }
    const [ok] = await create({
      topics,
      rotation: { nextRotationTime: at(clock, 5 * MINUTE), rotationPeriod: seconds(3600) },
    });
    expect(ok.rotation?.rotationPeriod?.seconds).toBe('3600');
  });

  it('refuses to drop the topics of a secret that rotates', async () => {
    const [s] = await create({
      topics: [{ name: TOPIC }],
      rotation: { nextRotationTime: at(clock, HOUR), rotationPeriod: seconds(86_400) },
    });
    expect(
      await failure(
        rig.client.updateSecret({
          secret: { name: s.name, topics: [] },
          updateMask: { paths: ['topics'] },
        }),
      ),
    ).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'There must be at least one topic configured when a Rotation policy is set.',
    });
    const [cleared] = await rig.client.updateSecret({
      secret: { name: s.name },
      updateMask: { paths: ['rotation', 'topics'] },
    });
    expect(cleared.rotation).toBeNull();
    expect(cleared.topics).toEqual([]);
  });

  it('sends SECRET_ROTATE at next_rotation_time, carrying the time already advanced by the period', async () => {
    const next = at(clock, 10 * MINUTE);
    const [s] = await create({
      topics: [{ name: TOPIC }],
      rotation: { nextRotationTime: next, rotationPeriod: seconds(3600) },
    });
    clock.advance(10 * MINUTE - 1);
    await rig.emulator.checkRotations();
    expect(rotates(s.name)).toEqual([]);

    clock.advance(1);
    await rig.emulator.checkRotations();
    const [rotate] = rotates(s.name);
    expect(rotate?.attributes).toMatchObject({
      eventType: 'SECRET_ROTATE',
      secretId: s.name,
      dataFormat: 'JSON_API_V1',
    });
    const advanced = new Date((next.seconds + 3600) * 1000).toISOString();
    expect(rotate?.json).toMatchObject({
      name: s.name,
      rotation: { nextRotationTime: advanced, rotationPeriod: '3600s' },
    });
    const [after] = await rig.client.getSecret({ name: s.name });
    expect(after.rotation?.nextRotationTime?.seconds).toBe(String(next.seconds + 3600));
    // Firing moves the etag, as production does: a read-modify-write across it must re-read.
    expect(after.etag).not.toBe(s.etag);
    expect(rotate?.json).toMatchObject({ etag: after.etag });

    // Once per period; after downtime one event, and the next time lands in the future.
    await rig.emulator.checkRotations();
    expect(rotates(s.name)).toHaveLength(1);
    clock.advance(3 * HOUR + 30 * MINUTE);
    await rig.emulator.checkRotations();
    expect(rotates(s.name)).toHaveLength(2);
    const [later] = await rig.client.getSecret({ name: s.name });
    expect(Number(later.rotation?.nextRotationTime?.seconds) * 1000).toBeGreaterThan(clock.now());
  });

  it('fires a rotation without a period once, then removes it', async () => {
    const [s] = await create({
      topics: [{ name: TOPIC }],
      rotation: { nextRotationTime: at(clock, 6 * MINUTE) },
    });
    clock.advance(6 * MINUTE);
    await rig.emulator.checkRotations();
    expect(rotates(s.name)).toHaveLength(1);
    const [after] = await rig.client.getSecret({ name: s.name });
    expect(after.rotation).toBeNull();
  });

  it('drives a schedule by next_rotation_time alone: fire, clear, set the next time, fire again', async () => {
    // As a cron-driven rotator does (issue 14): no period; after each SECRET_ROTATE the secret has
    // no rotation left, and the rotator sets the next time (>= 5 min ahead) with the mask path.
    const [s] = await create({
      topics: [{ name: TOPIC }],
      rotation: { nextRotationTime: at(clock, 10 * MINUTE) },
    });
    clock.advance(10 * MINUTE);
    await rig.emulator.checkRotations();
    const [first] = rotates(s.name);
    expect(first?.json).toMatchObject({ name: s.name });
    expect(first?.json).not.toHaveProperty('rotation');
    const [cleared] = await rig.client.getSecret({ name: s.name });
    expect(cleared.rotation).toBeNull();
    expect(cleared.topics).toEqual([{ name: TOPIC }]);

    const setNext = (ms: number, etag?: string | null) =>
      rig.client.updateSecret({
        secret: { name: s.name, rotation: { nextRotationTime: at(clock, ms) }, etag: etag ?? '' },
        updateMask: { paths: ['rotation.next_rotation_time'] },
      });
    expect(await failure(setNext(4 * MINUTE))).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'Next rotation time must be at least [5m] in the future.',
    });
    const [next] = await setNext(HOUR, cleared.etag);
    expect(next.rotation?.rotationPeriod).toBeNull();
    clock.advance(HOUR - 1);
    await rig.emulator.checkRotations();
    expect(rotates(s.name)).toHaveLength(1);
    clock.advance(1);
    await rig.emulator.checkRotations();
    expect(rotates(s.name)).toHaveLength(2);
    expect((await rig.client.getSecret({ name: s.name }))[0].rotation).toBeNull();
  });

  it('drops the period when the whole rotation is replaced by a time alone', async () => {
    const [s] = await create({
      topics: [{ name: TOPIC }],
      rotation: { nextRotationTime: at(clock, HOUR), rotationPeriod: seconds(86_400) },
    });
    const [u] = await rig.client.updateSecret({
      secret: { name: s.name, rotation: { nextRotationTime: at(clock, 2 * HOUR) } },
      updateMask: { paths: ['rotation'] },
    });
    expect(u.rotation?.rotationPeriod).toBeNull();
    expect(u.rotation?.nextRotationTime?.seconds).toBe(String(at(clock, 2 * HOUR).seconds));
  });

  it('triggers a rotation by moving rotation.next_rotation_time, keeping the period', async () => {
    const [s] = await create({
      topics: [{ name: TOPIC }],
      rotation: {
        nextRotationTime: at(clock, 30 * 24 * HOUR),
        rotationPeriod: seconds(30 * 86_400),
      },
    });
    const soon = at(clock, 5 * MINUTE);
    const [u] = await rig.client.updateSecret({
      secret: { name: s.name, rotation: { nextRotationTime: soon }, etag: s.etag },
      updateMask: { paths: ['rotation.next_rotation_time'] },
    });
    expect(u.rotation?.rotationPeriod?.seconds).toBe(String(30 * 86_400));
    expect(u.rotation?.nextRotationTime?.seconds).toBe(String(soon.seconds));
    expect(
      await failure(
        rig.client.updateSecret({
          secret: { name: s.name, rotation: { nextRotationTime: at(clock, MINUTE) } },
          updateMask: { paths: ['rotation.next_rotation_time'] },
        }),
      ),
    ).toMatchObject({ code: status.INVALID_ARGUMENT });
    clock.advance(5 * MINUTE);
    await rig.emulator.checkRotations();
    expect(rotates(s.name)).toHaveLength(1);
  });

  it('with relaxed limits and the system clock, rotates every second on its own', async () => {
    const relaxed = await startRig({ relaxedRotationLimits: true, rotationCheckIntervalMs: 50 });
    try {
      const now = Date.now();
      const [s] = await relaxed.client.createSecret({
        parent: 'projects/p',
        secretId: 'fast',
        secret: {
          replication: AUTOMATIC,
          topics: [{ name: TOPIC }],
          rotation: {
            nextRotationTime: { seconds: Math.floor(now / 1000), nanos: (now % 1000) * 1e6 },
            rotationPeriod: seconds(1),
          },
        },
      });
      await relaxed.emulator.notifications.next(2); // TOPIC_CONFIGURED, SECRET_CREATE
      const [first, second] = await relaxed.emulator.notifications.next(2, 4000);
      expect([first?.eventType, second?.eventType]).toEqual(['SECRET_ROTATE', 'SECRET_ROTATE']);
      expect(first?.attributes.secretId).toBe(s.name);
    } finally {
      await relaxed.stop();
    }
  });
});
