import { MANAGED_LABEL } from '../config/annotations';
import type { SecretSnapshot } from '../secrets/secret-store';
import { TrustError } from './trust-error';

/**
 * The secrets one deployment acts on: labelled `rotator=managed`, in one of `projects`. The project
 * segment is compared as Secret Manager writes it in the secret's name, which is the project
 * *number* on Google Cloud: the terraform module lists the number next to the id
 * (docs/deploy.md). Set from GCP_PROJECT and ROTATOR_PROJECTS (shared/runtime/settings.ts).
 */
export interface DeploymentScope {
  /** Project ids and numbers, as they may appear in `projects/P/...` secret names. */
  projects: readonly string[];
}

/** The `P` of `projects/P/secrets/S` or `projects/P/locations/L/secrets/S`. */
export const projectOf = (secretName: string): string => secretName.split('/')[1] ?? '';

/**
 * Refuses (TrustError) a secret outside the deployment's scope: another project, or no
 * `rotator=managed` label. Called by rotateSecret, refreshConsumers and retireVersions before
 * anything else is read from the secret.
 */
export function assertInScope(snapshot: SecretSnapshot, scope: DeploymentScope): void {
  const project = projectOf(snapshot.name);
  if (!scope.projects.includes(project)) {
    throw new TrustError(
      `secret ${snapshot.name} is in project ${project}, which this deployment does not cover ` +
        '(its own project and ROTATOR_PROJECTS)',
    );
  }
  if (snapshot.labels[MANAGED_LABEL.key] !== MANAGED_LABEL.value) {
    throw new TrustError(
      `secret ${snapshot.name} is not labelled ${MANAGED_LABEL.key}=${MANAGED_LABEL.value}`,
    );
  }
}

/** Whether the secret is in scope, for listings that skip rather than refuse. */
export function inScope(snapshot: SecretSnapshot, scope: DeploymentScope): boolean {
  try {
    assertInScope(snapshot, scope);
    return true;
  } catch (err) {
    if (err instanceof TrustError) return false;
    throw err;
  }
}
