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
