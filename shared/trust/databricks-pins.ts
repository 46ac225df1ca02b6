import type { WorkspaceConfig } from '../databricks/workspace-config';
import { TrustError } from './trust-error';

/**
 * The Databricks workspaces and credential secrets a deployment may use, from its settings
 * (ROTATOR_DATABRICKS_HOSTS, ROTATOR_DATABRICKS_CREDENTIAL_SECRETS; terraform variables
 * `databricks_hosts` and `databricks_credential_secrets`), never from a managed secret: a
 * managed secret's `rotator.consumers` can only pick among them. None set: none allowed.
 */
export interface DatabricksPins {
  /** Workspace origins, `https://host[:port]`, lower case, no trailing dot. */
  hosts: readonly string[];
  /** Full secret names (`projects/P/secrets/S`) of PATs and OAuth M2M client secrets. */
  credentialSecrets: readonly string[];
}

/** `https://Adb-1.Net./x` or `adb-1.net` → `https://adb-1.net` (URL lowercases; one dot dropped). */
export function workspaceOrigin(value: string): string {
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`);
  if (url.hostname.endsWith('.')) url.hostname = url.hostname.slice(0, -1);
  return url.origin;
}

/**
 * The secret a Databricks credential reference names, without its version: a short id is in
 * the functions' project, `projects/P/secrets/S[/versions/V]` as written.
 */
export function credentialSecretName(ref: string, projectId: string): string {
  const full = ref.startsWith('projects/') ? ref : `projects/${projectId}/secrets/${ref}`;
  return full.replace(/\/versions\/[^/]+$/, '');
}

/** Refuses (TrustError) a workspace host that the deployment does not pin. */
export function assertHostPinned(host: string, pins: DatabricksPins): void {
  const origin = workspaceOrigin(host);
  if (!pins.hosts.includes(origin)) {
    throw new TrustError(
      `Databricks workspace ${origin} is not one this deployment allows (ROTATOR_DATABRICKS_HOSTS)`,
    );
  }
}

/** Refuses (TrustError) a credential secret that the deployment does not pin. */
export function assertCredentialSecretPinned(
  ref: string,
  pins: DatabricksPins,
  projectId: string,
): void {
  const name = credentialSecretName(ref, projectId);
  if (!pins.credentialSecrets.includes(name)) {
    throw new TrustError(
      `secret ${name} is not a Databricks credential secret this deployment allows ` +
        '(ROTATOR_DATABRICKS_CREDENTIAL_SECRETS)',
    );
  }
}

/** The whole workspace config of a managed secret: its host, and its credential secret if any. */
export function assertWorkspacePinned(
  workspace: WorkspaceConfig,
  pins: DatabricksPins,
  projectId: string,
): void {
  assertHostPinned(workspace.host, pins);
  const { auth } = workspace;
  if (auth.type === 'oauth-m2m') {
    assertCredentialSecretPinned(auth.clientSecretSecret, pins, projectId);
  } else if (auth.type === 'pat') {
    assertCredentialSecretPinned(auth.tokenSecret, pins, projectId);
  }
}
