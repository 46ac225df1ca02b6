import { ManualClock } from '../../../devtools/manual-clock';
import {
  type FakeWorkspace,
  startFakeWorkspace,
} from '../../../emulator/databricks/fake-workspace';
import type { RefreshDeps, RefreshInput } from '../../../shared/consumers/refresh';
import { ConsumerTargetsSchema } from '../../../shared/consumers/targets';
import type { RetryPolicy } from '../../../shared/databricks/retry';
import { createWorkspaceClient } from '../../../shared/databricks/workspace-client';
import type { WorkspaceAuth } from '../../../shared/databricks/workspace-config';
import { createLogger, memorySink } from '../../../shared/logging/logger';
import { Redactor } from '../../../shared/logging/redactor';

export const PAT = 'dapi0123456789abcdef0123456789abcdef';
export const PASSWORD = 'Pw-7f3a9c1e5b2d4a6f8e0c';
export const PAYLOAD = JSON.stringify({
  engine: 'postgres',
  host: 'orders.db.internal',
  port: 5432,
  database: 'orders',
  username: 'orders_app_b',
  password: PASSWORD,
});

export const RETRY: RetryPolicy = {
  maxAttempts: 8,
  budgetMs: 60_000,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
};

/**
 * The fake workspace and refreshConsumers' real dependencies around it, on one manual clock: the
 * fake's state machines, the retry waits and the pipeline polling all move on it, so a 429 storm
 * with Retry-After: 2 or a pipeline that takes seconds to stop costs no real time.
 */
export async function startHarness(
  options: { auth?: WorkspaceAuth; retry?: RetryPolicy; requestTimeoutMs?: number } = {},
) {
  const clock = new ManualClock();
  const workspace: FakeWorkspace = await startFakeWorkspace({ now: () => clock.now() });
  workspace.acceptToken(PAT);
  const sink = memorySink();
  const redactor = new Redactor();
  const logger = createLogger({ sink, redactor, now: () => clock.now(), minSeverity: 'DEBUG' });
  const secrets: Record<string, string> = { 'dbx-pat': PAT };
  const versionReads: string[] = [];

  const deps: RefreshDeps = {
    clientFor: (ws) =>
      createWorkspaceClient(ws, {
        clock,
        random: () => 0.5,
        redactor,
        logger,
        retry: options.retry ?? RETRY,
        requestTimeoutMs: options.requestTimeoutMs ?? 2_000,
        readSecret: async (name) => {
          const value = secrets[name];
          if (value === undefined) throw new Error(`no secret ${name}`);
          return value;
        },
      }),
    readSecretVersion: async (name, version) => {
      versionReads.push(`${name}/${version}`);
      return PAYLOAD;
    },
    logger,
    clock,
    redactor,
    pipelineWait: { maxWaitMs: 5_000, pollMs: 25 },
  };

  const input = (targets: unknown[], overrides: Partial<RefreshInput> = {}): RefreshInput => ({
    rotationId: 'rot-orders-db-0007',
    secretName: 'orders-db',
    newVersion: '7',
    strategy: 'alternating-users',
    targets: ConsumerTargetsSchema.parse(targets),
    workspace: {
      host: workspace.url,
      auth: options.auth ?? { type: 'pat', tokenSecret: 'dbx-pat' },
    },
    ...overrides,
  });

  return { clock, workspace, sink, redactor, deps, input, secrets, versionReads };
}
