import { RotationConfigSchema } from '../../../shared/config/rotation-config';
import { checkOverdue } from '../../../shared/retirement/overdue';
import { planRetirement } from '../../../shared/retirement/plan';
import type { SecretSnapshot, VersionInfo } from '../../../shared/secrets/secret-store';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-27T00:00:00Z');
const config = RotationConfigSchema.parse({
  'rotator.engine': 'postgres',
  'rotator.strategy': 'alternating-users',
  'rotator.admin-secret': 'projects/p/secrets/admin',
  'rotator.grace-period': '1h',
  'rotator.max-grace-period': '4h',
  'rotator.retention-versions': '3',
});

const snapshot = (
  over: Partial<SecretSnapshot> & { state?: object; refresh?: object } = {},
): SecretSnapshot => {
  const { state, refresh, ...rest } = over;
  return {
    name: 'projects/p/secrets/db',
    etag: '"1"',
    labels: {},
    annotations: {
      'rotator.state': JSON.stringify({
        v: 1,
        status: 'idle',
        promotedAt: T0,
        lastStartedAt: T0,
        ...state,
      }),
      ...(refresh ? { 'rotator.refresh': JSON.stringify(refresh) } : {}),
    },
    aliases: { current: 3, previous: 2 },
    topics: [],
    createTime: T0 - 100 * HOUR,
    ...rest,
  };
};
const v = (
  number: number,
  state: VersionInfo['state'] = 'ENABLED',
  createTime = T0 - number,
): VersionInfo => ({
  number,
  state,
  createTime,
  etag: `"${number}"`,
});

describe('planRetirement', () => {
  it('waits out the grace period', () => {
    const p = planRetirement(snapshot(), [v(3), v(2), v(1, 'DISABLED')], config, [], T0 + HOUR - 1);
    expect(p.actions).toEqual([]);
    expect(p.waiting).toMatch(/^grace period until 2026-11-27T01:00:00.000Z/);
  });

  it('retires previous after the grace period when there are no consumers', () => {
    const p = planRetirement(snapshot(), [v(3), v(2), v(1, 'DISABLED')], config, [], T0 + HOUR);
    expect(p.actions).toEqual([
      { kind: 'retire-previous', version: 2, unconfirmed: [], forced: false },
    ]);
  });

  it('waits for consumers until the maximum grace, then forces', () => {
    const refresh = {
      rotationId: 'r',
      version: 3,
      updatedAt: T0,
      targets: [{ id: 'job:1', kind: 'job', status: 'done' }],
    };
    const waiting = planRetirement(
      snapshot({ refresh }),
      [v(3), v(2)],
      config,
      ['job:1', 'cluster:c'],
      T0 + 2 * HOUR,
    );
    expect(waiting.actions).toEqual([]);
    expect(waiting.waiting).toMatch(/cluster:c/);
    const forced = planRetirement(
      snapshot({ refresh }),
      [v(3), v(2)],
      config,
      ['job:1', 'cluster:c'],
      T0 + 4 * HOUR,
    );
    expect(forced.actions).toEqual([
      { kind: 'retire-previous', version: 2, unconfirmed: ['cluster:c'], forced: true },
    ]);
  });

  it('counts a confirmation only for the version current points at', () => {
    const refresh = {
      rotationId: 'r',
      version: 2,
      updatedAt: T0,
      targets: [{ id: 'job:1', kind: 'job', status: 'done' }],
    };
    const p = planRetirement(snapshot({ refresh }), [v(3), v(2)], config, ['job:1'], T0 + 2 * HOUR);
    expect(p.waiting).toMatch(/job:1/);
  });

  it('follows the credential: a failed rotation re-added current as a new version, confirmations hold', () => {
    const refresh = {
      rotationId: 'r',
      version: 3,
      updatedAt: T0,
      targets: [{ id: 'job:1', kind: 'job', status: 'done' }],
    };
    // Version 5 is the failure path's copy of 3 (4 was the failed pending version).
    const copied = snapshot({
      refresh,
      aliases: { current: 5, previous: 2 },
      state: { currentCredential: { current: 5, origin: 3 } },
    });
    const p = planRetirement(
      copied,
      [v(5), v(4, 'DISABLED'), v(3), v(2)],
      config,
      ['job:1'],
      T0 + 2 * HOUR,
    );
    expect(p.actions).toContainEqual({
      kind: 'retire-previous',
      version: 2,
      unconfirmed: [],
      forced: false,
    });
    // An alias moved by hand since: the record no longer vouches for it.
    const moved = snapshot({
      refresh,
      aliases: { current: 6, previous: 2 },
      state: { currentCredential: { current: 5, origin: 3 } },
    });
    expect(
      planRetirement(moved, [v(6), v(5), v(3), v(2)], config, ['job:1'], T0 + 2 * HOUR).waiting,
    ).toMatch(/job:1/);
  });

  it('never touches a secret whose rotation is in flight, or that another tick is retiring', () => {
    expect(
      planRetirement(
        snapshot({ state: { status: 'rotating' } }),
        [v(3), v(2)],
        config,
        [],
        T0 + 9 * HOUR,
      ).skipped,
    ).toMatch(/in flight/);
    const retiring = { retiring: { version: 2, leaseUntil: T0 + 10 * HOUR, holder: 'x' } };
    expect(
      planRetirement(snapshot({ state: retiring }), [v(3), v(2)], config, [], T0 + 9 * HOUR)
        .skipped,
    ).toMatch(/another tick/);
  });

  it('disables enabled versions below current that no alias points at', () => {
    const p = planRetirement(snapshot(), [v(3), v(2), v(1)], config, [], T0);
    expect(p.actions).toEqual([{ kind: 'disable-stale', version: 1 }]);
  });

  it('leaves enabled versions above current alone (someone else added them)', () => {
    const p = planRetirement(snapshot(), [v(4), v(3), v(2)], config, [], T0);
    expect(p.actions).toEqual([]);
  });

  it('destroys disabled versions beyond the retention count, never aliased ones or latest', () => {
    const versions = [
      v(6, 'DISABLED'),
      v(5),
      v(4, 'DISABLED'),
      v(3, 'DISABLED'),
      v(2, 'DISABLED'),
      v(1, 'DESTROYED'),
    ];
    const p = planRetirement(
      snapshot({ aliases: { current: 5, previous: 3 } }),
      versions,
      config,
      [],
      T0,
    );
    // 6 is latest, 3 is previous: kept; 2 is beyond the newest three alive.
    expect(p.actions).toEqual([{ kind: 'destroy', version: 2, why: 'count' }]);
  });
});

describe('checkOverdue', () => {
  const scheduled = (nextRotationTime: number, lastStartedAt?: number) =>
    snapshot({
      rotation: { nextRotationTime, periodMs: 24 * HOUR },
      state: lastStartedAt === undefined ? { lastStartedAt: undefined } : { lastStartedAt },
    });

  it('is fine when the last expected rotation happened', () => {
    expect(checkOverdue(scheduled(T0 + 20 * HOUR, T0 - 4 * HOUR + 60_000), T0, HOUR)).toEqual({
      overdue: false,
    });
  });

  it('flags a scheduled rotation that did not start', () => {
    const r = checkOverdue(scheduled(T0 + 20 * HOUR, T0 - 40 * HOUR), T0, HOUR);
    expect(r).toEqual({
      overdue: true,
      reason: 'scheduled rotation did not start',
      expectedAt: T0 - 4 * HOUR,
    });
  });

  it('flags a next rotation time far in the past (no notification at all)', () => {
    const r = checkOverdue(scheduled(T0 - 2 * HOUR, T0 - 30 * HOUR), T0, HOUR);
    expect(r).toMatchObject({
      overdue: true,
      reason: 'next rotation time passed without a notification',
    });
  });

  it('flags failed secrets and stalled rotations', () => {
    expect(
      checkOverdue(snapshot({ state: { status: 'failed', rotation: undefined } }), T0, HOUR),
    ).toMatchObject({ overdue: true });
    const stalled = snapshot({
      state: {
        status: 'rotating',
        rotation: {
          id: 'rot-1',
          trigger: 'schedule',
          requestedAt: T0,
          startedAt: T0,
          attempt: 1,
          leaseUntil: T0,
          holder: 'h',
          step: 'set',
          baseVersion: 1,
          baseUsername: 'app',
          latestAtClaim: 1,
          stepMs: {},
        },
      },
    });
    expect(checkOverdue(stalled, T0 + 2 * HOUR, HOUR)).toMatchObject({
      overdue: true,
      reason: 'rotation rot-1 stalled at step set',
    });
  });
});
