import type { RotationRequest } from '../../../shared/events/rotation-request';
import { decide } from '../../../shared/rotation/decide';
import type { RotationRecord, RotationState } from '../../../shared/rotation/state';

const request = (requestedAt: number): RotationRequest => ({
  secret: 'projects/p/secrets/db',
  trigger: 'schedule',
  requestKey: `schedule:${requestedAt}`,
  requestedAt,
});

const record = (over: Partial<RotationRecord> = {}): RotationRecord => ({
  id: 'rot-1',
  trigger: 'schedule',
  requestedAt: 100,
  startedAt: 110,
  attempt: 1,
  leaseUntil: 1_000,
  holder: 'w1',
  step: 'set',
  baseVersion: 1,
  baseUsername: 'app',
  latestAtClaim: 1,
  stepMs: {},
  ...over,
});

describe('decide', () => {
  it.each<[string, RotationState, number, number, string]>([
    ['first rotation of a secret', { v: 1, status: 'idle' }, 500, 500, 'start'],
    [
      'newer request after a rotation',
      { v: 1, status: 'idle', lastStartedAt: 110 },
      200,
      500,
      'start',
    ],
    [
      'redelivery of the request that started the last rotation',
      { v: 1, status: 'idle', lastStartedAt: 110 },
      100,
      500,
      'stale',
    ],
    [
      'request made the instant the last rotation started',
      { v: 1, status: 'idle', lastStartedAt: 110 },
      110,
      500,
      'stale',
    ],
    [
      'duplicate while another worker holds the lease',
      { v: 1, status: 'rotating', rotation: record(), lastStartedAt: 110 },
      100,
      500,
      'busy',
    ],
    [
      'redelivery after the worker died (lease expired)',
      { v: 1, status: 'rotating', rotation: record(), lastStartedAt: 110 },
      100,
      2_000,
      'takeover',
    ],
    [
      'attempts used up',
      { v: 1, status: 'rotating', rotation: record({ attempt: 3 }), lastStartedAt: 110 },
      100,
      2_000,
      'exhausted',
    ],
    [
      'decided failure still to clean up',
      {
        v: 1,
        status: 'rotating',
        rotation: record({ attempt: 3, outcome: 'failed' }),
        lastStartedAt: 110,
      },
      100,
      2_000,
      'takeover',
    ],
    [
      'new request after an unresolved failure',
      { v: 1, status: 'failed', rotation: record({ unresolved: true }), lastStartedAt: 110 },
      300,
      500,
      'resume-unresolved',
    ],
    [
      'new request after a clean failure',
      { v: 1, status: 'failed', rotation: record({ outcome: 'failed' }), lastStartedAt: 110 },
      300,
      500,
      'start',
    ],
    [
      'stale request after a failure',
      { v: 1, status: 'failed', rotation: record({ unresolved: true }), lastStartedAt: 110 },
      50,
      500,
      'stale',
    ],
  ])('%s', (_name, state, requestedAt, now, expected) => {
    // Act
    const d = decide(state, request(requestedAt), now, 3);
    // Assess
    expect(d.action).toBe(expected);
  });
});

describe('decide: the grace window of previous', () => {
  const idle: RotationState = { v: 1, status: 'idle', lastStartedAt: 110 };
  const held = { kind: 'held', until: 5_000, why: 'grace period', allConfirmed: false } as const;

  it('waits while previous is held and consumers have not all confirmed', () => {
    expect(decide(idle, request(200), 500, 3, held)).toEqual({
      action: 'wait',
      until: 5_000,
      why: 'grace period',
    });
  });

  it('retires previous first when every consumer confirmed, or when it is due', () => {
    expect(decide(idle, request(200), 500, 3, { ...held, allConfirmed: true }).action).toBe(
      'retire-first',
    );
    expect(decide(idle, request(200), 500, 3, { kind: 'due', unconfirmed: [] }).action).toBe(
      'retire-first',
    );
  });

  it('starts when nothing is held (single-user, or previous already retired)', () => {
    expect(decide(idle, request(200), 500, 3, { kind: 'none' }).action).toBe('start');
  });

  it('an emergency ignores the window', () => {
    expect(decide(idle, { ...request(200), emergency: true }, 500, 3, held).action).toBe('start');
  });

  it('a redelivered emergency whose rotation completed finishes the revoke', () => {
    const done: RotationState = {
      v: 1,
      status: 'idle',
      lastStartedAt: 110,
      rotation: record({ id: 'rot-e', emergency: true, outcome: 'succeeded' }),
    };
    const again = { ...request(100), emergency: true };
    expect(decide(done, again, 500, 3, { kind: 'due', unconfirmed: [] }, 'rot-e').action).toBe(
      'emergency-revoke',
    );
    expect(decide(done, again, 500, 3, { kind: 'none' }, 'rot-e').action).toBe('stale');
    expect(decide(done, again, 500, 3, held, 'rot-other').action).toBe('stale');
  });

  it('a busy secret stays busy, whatever the window says', () => {
    const rotating: RotationState = {
      v: 1,
      status: 'rotating',
      rotation: record(),
      lastStartedAt: 110,
    };
    expect(decide(rotating, request(200), 500, 3, held).action).toBe('busy');
  });
});
