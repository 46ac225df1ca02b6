import { systemClock } from '../../../shared/clock';
import { createLogger, memorySink } from '../../../shared/logging/logger';
import { Redactor } from '../../../shared/logging/redactor';
import { buildRotatorDeps } from '../../../shared/runtime/rotator-deps';
import type { SecretStore } from '../../../shared/secrets/secret-store';

const redactor = new Redactor();
const parts = {
  store: {} as SecretStore,
  publish: async () => {},
  logger: createLogger({ redactor, sink: memorySink() }),
  redactor,
  settings: {
    rotationEventsTopic: 'projects/p/topics/rotation-events',
    leaseMs: 60_000,
    testAttempts: 2,
    testRetryDelayMs: 10,
    scope: { projects: ['p'] },
    stagingSecrets: ['projects/p/secrets/gsm-rotator-staging'],
  },
};

describe('buildRotatorDeps', () => {
  it('keeps the given clients and fills the production defaults', () => {
    const deps = buildRotatorDeps(parts);
    expect(deps.store).toBe(parts.store);
    expect(deps.publish).toBe(parts.publish);
    expect(deps.settings).toBe(parts.settings);
    expect(deps.clock).toBe(systemClock);
    expect(deps.randomBytes(8)).toHaveLength(8);
    expect(deps.newHolderId()).not.toBe(deps.newHolderId());
    expect(deps.engineFor('postgres').name).toBe('postgres');
  });

  it('lets an override replace a default', () => {
    const clock = { now: () => 42, sleep: async () => {} };
    const failpoint = () => {};
    const deps = buildRotatorDeps(parts, { clock, failpoint });
    expect(deps.clock).toBe(clock);
    expect(deps.failpoint).toBe(failpoint);
  });
});
