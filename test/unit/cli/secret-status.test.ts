import { secretStatus } from '../../../cli/commands/status';
import { CONFIG_KEYS, STATE_KEYS } from '../../../shared/config/annotations';
import type { SecretSnapshot } from '../../../shared/secrets/secret-store';

const HOUR = 3_600_000;
const NOW = Date.UTC(2025, 5, 1, 12);

const consumers = JSON.stringify({
  workspace: { host: 'https://dbc-1.cloud.databricks.com', auth: { type: 'google-id' } },
  targets: [
    { kind: 'job', jobId: 1, mode: 'triggered' },
    { kind: 'cluster', clusterId: 'c-1' },
  ],
});

const snapshot = (annotations: Record<string, string>, over: Partial<SecretSnapshot> = {}) => ({
  name: 'projects/p/secrets/db',
  etag: 'e',
  labels: { rotator: 'managed' },
  annotations: {
    [CONFIG_KEYS.engine]: 'postgres',
    [CONFIG_KEYS.strategy]: 'alternating-users',
    [CONFIG_KEYS.adminSecret]: 'projects/p/secrets/admin',
    ...annotations,
  },
  aliases: { current: 4, previous: 3 },
  topics: [],
  ...over,
});

const rotation = {
  id: 'rot-9',
  trigger: 'schedule',
  requestedAt: NOW - HOUR,
  startedAt: NOW - HOUR,
  attempt: 2,
  leaseUntil: NOW + HOUR,
  holder: 'w',
  step: 'test',
  baseVersion: 4,
  baseUsername: 'app',
  latestAtClaim: 4,
  stepMs: {},
};

describe('secretStatus', () => {
  it('is ok with versions, last rotation, next rotation and confirmed consumers', () => {
    // Prepare
    const s = snapshot(
      {
        [CONFIG_KEYS.consumers]: consumers,
        [STATE_KEYS.state]: JSON.stringify({ v: 1, status: 'idle', lastStartedAt: NOW - 2 * HOUR }),
        [STATE_KEYS.history]: JSON.stringify([
          {
            id: 'rot-8',
            trigger: 'on-demand',
            requestedBy: 'alice',
            outcome: 'succeeded',
            startedAt: NOW - 2 * HOUR,
            completedAt: NOW - 2 * HOUR + 5_000,
            fromVersion: 3,
            toVersion: 4,
            attempts: 1,
          },
        ]),
        [STATE_KEYS.refresh]: JSON.stringify({
          rotationId: 'rot-8',
          version: 4,
          updatedAt: NOW,
          targets: [
            { id: 'job:1', kind: 'job', status: 'done' },
            { id: 'cluster:c-1', kind: 'cluster', status: 'failed' },
          ],
        }),
      },
      { rotation: { nextRotationTime: NOW + 24 * HOUR, periodMs: 30 * 24 * HOUR } },
    );
    // Act
    const status = secretStatus(s, NOW, HOUR);
    // Assess
    expect(status).toEqual({
      name: 'projects/p/secrets/db',
      engine: 'postgres',
      strategy: 'alternating-users',
      versions: { current: 4, previous: 3 },
      pendingLogin: null,
      lastRotation: {
        id: 'rot-8',
        outcome: 'succeeded',
        trigger: 'on-demand',
        requestedBy: 'alice',
        completedAt: new Date(NOW - 2 * HOUR + 5_000).toISOString(),
      },
      nextRotation: new Date(NOW + 24 * HOUR).toISOString(),
      state: 'ok',
      reason: null,
      consumers: { confirmed: 1, total: 2 },
      schedule: null,
      paused: null,
    });
  });

  it('counts no confirmation made for another version', () => {
    const s = snapshot({
      [CONFIG_KEYS.consumers]: consumers,
      [STATE_KEYS.refresh]: JSON.stringify({
        rotationId: 'rot-7',
        version: 3,
        updatedAt: NOW,
        targets: [{ id: 'job:1', kind: 'job', status: 'done' }],
      }),
    });
    expect(secretStatus(s, NOW, HOUR).consumers).toEqual({ confirmed: 0, total: 2 });
  });

  it('is rotating while a rotation holds its lease', () => {
    const s = snapshot(
      { [STATE_KEYS.state]: JSON.stringify({ v: 1, status: 'rotating', rotation }) },
      { aliases: { current: 4 } },
    );
    const status = secretStatus(s, NOW, HOUR);
    expect(status.state).toBe('rotating');
    expect(status.reason).toBe('rotation rot-9 at step test (attempt 2)');
    // Nothing staged yet: no pending login to show.
    expect(status.pendingLogin).toBeNull();
    const staged = snapshot(
      {
        [STATE_KEYS.state]: JSON.stringify({
          v: 1,
          status: 'rotating',
          rotation: {
            ...rotation,
            pendingUsername: 'app_clone',
            staged: {
              secret: 'projects/p/secrets/gsm-rotator-staging',
              version: 12,
              rotationId: 'rot-9',
            },
          },
        }),
      },
      { aliases: { current: 4 } },
    );
    expect(secretStatus(staged, NOW, HOUR).pendingLogin).toBe('app_clone');
    // After the rotation ended: shown only while the staged credential may be live (unresolved).
    const ended = (unresolved: boolean) =>
      snapshot(
        {
          [STATE_KEYS.state]: JSON.stringify({
            v: 1,
            status: 'failed',
            rotation: {
              ...rotation,
              outcome: 'failed',
              unresolved,
              pendingUsername: 'app_clone',
              staged: {
                secret: 'projects/p/secrets/gsm-rotator-staging',
                version: 12,
                rotationId: 'rot-9',
              },
            },
          }),
        },
        { aliases: { current: 4 } },
      );
    expect(secretStatus(ended(true), NOW, HOUR).pendingLogin).toBe('app_clone');
    expect(secretStatus(ended(false), NOW, HOUR).pendingLogin).toBeNull();
  });

  it('is failed with the recorded error', () => {
    const s = snapshot({
      [STATE_KEYS.state]: JSON.stringify({
        v: 1,
        status: 'failed',
        rotation: { ...rotation, outcome: 'failed', error: 'test query failed' },
      }),
    });
    const status = secretStatus(s, NOW, HOUR);
    expect(status.state).toBe('failed');
    expect(status.reason).toBe('last rotation failed: test query failed');
  });

  it('is overdue when the schedule passed without a notification', () => {
    const s = snapshot({}, { rotation: { nextRotationTime: NOW - 3 * HOUR } });
    const status = secretStatus(s, NOW, HOUR);
    expect(status.state).toBe('overdue');
    expect(status.reason).toBe(
      'next rotation time passed without a notification (expected 2025-06-01T09:00:00Z)',
    );
  });

  it('names the invalid annotation of a broken config', () => {
    const s = snapshot({ [CONFIG_KEYS.strategy]: 'triple-password' });
    const status = secretStatus(s, NOW, HOUR);
    expect(status.state).toBe('invalid-config');
    expect(status.reason).toContain('rotator.strategy');
    expect(status.engine).toBeNull();
  });
});
