import type { DatabricksClient } from '../databricks/client';
import type { WorkspaceClientDeps } from '../databricks/workspace-client';
import type { WorkspaceConfig } from '../databricks/workspace-config';
import { readSecretReference } from '../secrets/secret-reference';
import type { SecretStore } from '../secrets/secret-store';
import {
  assertCredentialSecretPinned,
  assertWorkspacePinned,
  type DatabricksPins,
} from '../trust/databricks-pins';

// The workspace client pulls in google-auth-library: required on first use, not at import, so a
// cold start that only acknowledges an event does not pay for it.
const workspaceClient = () =>
  require('../databricks/workspace-client') as typeof import('../databricks/workspace-client');

/**
 * Databricks clients cached per workspace host and auth, so tokens are cached too. With `pins`
 * (the functions always pass the deployment's), a workspace host or credential secret the
 * deployment does not pin is refused (TrustError) before any token is read or request is sent.
 * The operator CLI passes none: it runs as the operator, with the operator's own rights.
 * Credential references in the workspace config are read from `store` (secret-reference.ts).
 */
export function databricksClients(
  base: Omit<WorkspaceClientDeps, 'readSecret'>,
  store: SecretStore,
  projectId: string,
  pins?: DatabricksPins,
): (workspace: WorkspaceConfig) => DatabricksClient {
  const readSecret = async (ref: string) => {
    if (pins) assertCredentialSecretPinned(ref, pins, projectId);
    return readSecretReference(store, ref, projectId);
  };
  const clients = new Map<string, DatabricksClient>();
  return (workspace) => {
    if (pins) assertWorkspacePinned(workspace, pins, projectId);
    const key = JSON.stringify(workspace);
    let client = clients.get(key);
    if (!client) {
      client = workspaceClient().createWorkspaceClient(workspace, { ...base, readSecret });
      clients.set(key, client);
    }
    return client;
  };
}
