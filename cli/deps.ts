import type { Clock } from '../shared/clock';
import type { DatabricksClient } from '../shared/databricks/client';
import type { WorkspaceConfig } from '../shared/databricks/workspace-config';
import type { DatabaseEngine, EngineName } from '../shared/engines/engine';
import type { Redactor } from '../shared/logging/redactor';
import type { Publish } from '../shared/rotation/context';
import type { SecretStore } from '../shared/secrets/secret-store';

/**
 * What the CLI needs from the outside world, passed in: `runCli(argv, deps)` runs in-process in
 * tests with the emulator's store, a recording publisher, a controllable clock and captured output;
 * cli/production-deps.ts wires the real ones.
 */
export interface CliDeps {
  /** For the project variables and the overdue margin default. */
  env: NodeJS.ProcessEnv;
  store: SecretStore;
  /** Publishes to a full topic name (projects/P/topics/T). */
  publish: Publish;
  clock: Clock;
  engineFor: (name: EngineName) => DatabaseEngine;
  /** A client for the workspace; short secret ids in its auth config are read in `projectId`. */
  databricksClientFor: (workspace: WorkspaceConfig, projectId: string) => DatabricksClient;
  /** The idempotency key of an on-demand request (`rotate`). */
  newRequestId: () => string;
  readFile: (path: string) => Promise<string>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Every value the store read is registered here; all output is scrubbed of them. */
  redactor: Redactor;
  /** How often `rotate --wait` re-reads the secret. */
  pollMs: number;
  /** How long a publish may take before `rotate` reports Pub/Sub unreachable. */
  publishTimeoutMs: number;
  /** The signed-in Google identity (cli/identity.ts), for `--requested-by`'s default. */
  identity: () => Promise<string | undefined>;
  /** Whether stderr is a terminal: `rotate --wait` then redraws a waiting line with the time. */
  stderrIsTTY: boolean;
  /**
   * Calls `handler` on Ctrl-C (SIGINT) instead of ending the process, until the returned function
   * is called: `rotate --wait` then says that the rotation continues and how to follow it.
   */
  onInterrupt: (handler: () => void) => () => void;
}
