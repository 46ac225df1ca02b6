import { randomBytes, randomUUID } from 'node:crypto';
import { systemClock } from '../clock';
import type { Logger } from '../logging/logger';
import type { Redactor } from '../logging/redactor';
import type { Publish, RotatorDeps, RotatorSettings } from '../rotation/context';
import type { SecretStore } from '../secrets/secret-store';

/**
 * What differs between the functions, the bench and the tests: the clients (Secret Manager,
 * Pub/Sub), where logs go, and the settings. Everything else has one production default.
 */
export interface RotatorDepsParts {
  store: SecretStore;
  publish: Publish;
  logger: Logger;
  redactor: Redactor;
  settings: RotatorSettings;
}

// The database drivers load on first use, not at import (cold start: see deps.ts).
const engines = () => require('../engines/registry') as typeof import('../engines/registry');

/**
 * The one RotatorDeps builder: the given clients and settings, the production clock, randomness,
 * holder ids and database engines, then `overrides` (a test clock, a wrapped engine, a failpoint).
 * productionDeps() calls it with the deployment's clients; tooling and tests call it with theirs.
 */
export function buildRotatorDeps(
  parts: RotatorDepsParts,
  overrides: Partial<Omit<RotatorDeps, keyof RotatorDepsParts>> = {},
): RotatorDeps {
  return {
    ...parts,
    engineFor: (name) => engines().engineFor(name),
    clock: systemClock,
    randomBytes,
    newHolderId: () => randomUUID(),
    ...overrides,
  };
}
