import { pubsubCloudEvent, secretNotification } from '../../../devtools/events';
import { makeRotateSecret } from '../../../functions/rotate-secret';
import { createLogger, memorySink } from '../../../shared/logging/logger';
import { Redactor } from '../../../shared/logging/redactor';
import type { RotatorDeps } from '../../../shared/rotation/context';
import { PermissionDeniedError } from '../../../shared/secrets/errors';
import type { SecretStore } from '../../../shared/secrets/secret-store';

const SECRET = 'projects/p/secrets/db';
const NOW = Date.parse('2026-11-29T12:00:00Z');
const denied = () =>
  new PermissionDeniedError(
    `getSecret ${SECRET}: Permission 'secretmanager.secrets.get' denied for resource '${SECRET}' (or it may not exist).`,
    SECRET,
  );

function setup() {
  const sink = memorySink();
  const store = {
    getSecret: async () => {
      throw denied();
    },
  } as unknown as SecretStore;
  const deps = {
    store,
    clock: { now: () => NOW, sleep: async () => undefined },
    logger: createLogger({ sink, redactor: new Redactor(), minSeverity: 'DEBUG' }),
    settings: {
      rotationEventsTopic: 'projects/p/topics/t',
      leaseMs: 1,
      testAttempts: 1,
      testRetryDelayMs: 0,
      stagingSecrets: ['projects/p/secrets/staging'],
    },
  } as unknown as RotatorDeps;
  return { sink, rotate: makeRotateSecret(() => deps) };
}

const scheduledAt = (ms: number) =>
  pubsubCloudEvent(
    secretNotification('SECRET_ROTATE', SECRET, {
      timestamp: new Date(ms).toISOString().replace('Z', '+00:00'),
    }),
  );

describe('PERMISSION_DENIED from Secret Manager (IAM propagating after terraform apply)', () => {
  it('names the permission it parsed from the server message', () => {
    expect(denied().permission).toBe('secretmanager.secrets.get');
  });

  it('is transient while the request is young: Pub/Sub redelivers, no ERROR', async () => {
    const { sink, rotate } = setup();
    await expect(rotate(scheduledAt(NOW - 2 * 60_000))).rejects.toThrow(/redelivery requested/);
    expect(sink.entries().filter((e) => e.severity === 'ERROR')).toEqual([]);
  });

  it('is permanent after the propagation bound: one ERROR naming the permission, acknowledged', async () => {
    const { sink, rotate } = setup();
    await expect(rotate(scheduledAt(NOW - 11 * 60_000))).resolves.toBeUndefined();
    const errors = sink.entries().filter((e) => e.severity === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(String(errors[0]?.message)).toMatch(
      /denied secretmanager\.secrets\.get on projects\/p\/secrets\/db for longer than IAM propagation takes \(10 min\)/,
    );
  });
});
