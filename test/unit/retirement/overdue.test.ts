import { ConditionMemory } from '../../../shared/retirement/condition-memory';
import { checkOverdue } from '../../../shared/retirement/overdue';
import type { SecretSnapshot } from '../../../shared/secrets/secret-store';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.parse('2026-11-27T00:00:00Z');

/** A rotation interrupted at `set` whose worker gave its lease up (a transient failure). */
const waitingForRedelivery = (leaseUntil: number): SecretSnapshot => ({
  name: 'projects/p/secrets/db',
  etag: '"1"',
  labels: {},
  annotations: {
    'rotator.state': JSON.stringify({
      v: 1,
      status: 'rotating',
      lastStartedAt: T0,
      rotation: {
        id: 'rot-1',
        trigger: 'schedule',
        requestedAt: T0,
        startedAt: T0,
        attempt: 2,
        leaseUntil,
        holder: 'h',
        step: 'set',
        baseVersion: 1,
        baseUsername: 'app',
        latestAtClaim: 1,
        error: 'postgres: connect failed (ECONNREFUSED)',
        stepMs: {},
      },
    }),
  },
  aliases: { current: 1 },
  topics: [],
  createTime: T0 - 100 * HOUR,
});

describe('a rotation waiting for Pub/Sub to redeliver is not stalled', () => {
  it('a lease given up minutes ago (redelivery backoff) is not overdue', () => {
    expect(checkOverdue(waitingForRedelivery(T0 + MIN), T0 + 11 * MIN, HOUR)).toEqual({
      overdue: false,
    });
  });

  it('a lease released as 0 by an older version is not read as stalled', () => {
    expect(checkOverdue(waitingForRedelivery(0), T0 + 11 * MIN, HOUR)).toEqual({
      overdue: false,
    });
  });

  it('no sign of life for longer than the margin is stalled', () => {
    expect(checkOverdue(waitingForRedelivery(T0 + MIN), T0 + 2 * HOUR, HOUR)).toMatchObject({
      overdue: true,
      reason: 'rotation rot-1 stalled at step set',
    });
  });
});

describe('ConditionMemory: a standing condition is reported once per change', () => {
  it('reports a new condition, not its repeats, and again after it cleared', () => {
    const m = new ConditionMemory();
    expect(m.changed('s', 'failed: x')).toBe(true);
    expect(m.changed('s', 'failed: x')).toBe(false);
    expect(m.changed('other', 'failed: x')).toBe(true);
    expect(m.changed('s', 'stalled')).toBe(true);
    expect(m.changed('s', undefined)).toBe(false);
    expect(m.changed('s', 'stalled')).toBe(true);
  });
});
