import { SecretNameSchema } from '../shared/config/rotation-config';
import { secretParents } from '../shared/secrets/parents';
import { usageError } from './exit-codes';

/**
 * Where the CLI looks for secrets: a project (global secrets) and optionally regions (regional
 * secrets). `--project` wins over the environment, which is checked in the order gcloud users
 * expect: GCP_PROJECT, GOOGLE_CLOUD_PROJECT, CLOUDSDK_CORE_PROJECT.
 */
export interface Scope {
  project?: string;
  locations: string[];
}

export const PROJECT_VARIABLES = ['GCP_PROJECT', 'GOOGLE_CLOUD_PROJECT', 'CLOUDSDK_CORE_PROJECT'];

// A project id (6-30 characters) or a project number; the same shapes Secret Manager accepts.
const PROJECT = /^([a-z][a-z0-9-]{4,28}[a-z0-9]|\d{1,20})$/;
const LOCATION = /^[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;

export function resolveScope(
  options: { project?: string; location?: string[] },
  env: NodeJS.ProcessEnv,
): Scope {
  const fromEnv = PROJECT_VARIABLES.map((v) => env[v]).find((v) => v !== undefined && v !== '');
  const project = options.project ?? fromEnv;
  if (project !== undefined && !PROJECT.test(project)) {
    throw usageError(`--project: not a Google Cloud project id: ${project}`);
  }
  const locations = options.location ?? [];
  for (const l of locations) {
    if (!LOCATION.test(l)) throw usageError(`--location: not a Google Cloud location: ${l}`);
  }
  return { ...(project === undefined ? {} : { project }), locations };
}

export function requireProject(scope: Scope): string {
  if (scope.project === undefined) {
    throw usageError(
      `no project: pass --project or set ${PROJECT_VARIABLES.join(', ')} (or name the secret in full: projects/P/secrets/S)`,
    );
  }
  return scope.project;
}

/** The parents that hold the scope's secrets: the project, then each location. */
export function parentsOf(scope: Scope): string[] {
  return secretParents(requireProject(scope), scope.locations);
}

/**
 * The full names a secret argument may mean, in the order they are tried: a full name is itself;
 * a short id is the project's global secret, then the regional one in each `--location`.
 */
export function secretCandidates(ref: string, scope: Scope): string[] {
  if (ref.startsWith('projects/')) {
    if (!SecretNameSchema.safeParse(ref).success) {
      throw usageError(
        `not a secret name: ${ref} (expected projects/P/secrets/S or projects/P/locations/L/secrets/S)`,
      );
    }
    return [ref];
  }
  if (!SECRET_ID.test(ref)) {
    throw usageError(`not a secret id: ${ref} (letters, digits, - and _; or a full name)`);
  }
  return parentsOf(scope).map((parent) => `${parent}/secrets/${ref}`);
}

/** The short id where it is unambiguous for the reader (a global secret of the scope's project). */
export function displayName(name: string, scope: Scope): string {
  const prefix = scope.project === undefined ? undefined : `projects/${scope.project}/secrets/`;
  return prefix !== undefined && name.startsWith(prefix) ? name.slice(prefix.length) : name;
}
