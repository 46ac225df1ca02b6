import type { Logger } from '../logging/logger';
import { type AuthDeps, createTokenProvider } from './auth/create-token-provider';
import { createDatabricksClient, type DatabricksClient } from './client';
import type { WorkspaceConfig } from './workspace-config';

export interface WorkspaceClientDeps extends AuthDeps {
  logger: Logger;
  requestTimeoutMs?: number;
}

/** A client for the workspace, signed in as its config says. */
export function createWorkspaceClient(
  workspace: WorkspaceConfig,
  deps: WorkspaceClientDeps,
): DatabricksClient {
  return createDatabricksClient({
    host: workspace.host,
    tokens: createTokenProvider(workspace, deps),
    clock: deps.clock,
    random: deps.random,
    redactor: deps.redactor,
    logger: deps.logger,
    fetch: deps.fetch,
    retry: deps.retry,
    requestTimeoutMs: deps.requestTimeoutMs,
  });
}
