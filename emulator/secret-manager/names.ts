import { invalidArgument } from './errors';

/** Resource names, global (`projects/P/secrets/S`) and regional (`projects/P/locations/L/secrets/S`). */
export interface ParentRef {
  name: string;
  project: string;
  location?: string;
}

export interface SecretRef extends ParentRef {
  /** The full secret name. */
  name: string;
  secretId: string;
}

export interface VersionRef {
  secret: SecretRef;
  /** What the request named: a number, `latest` or an alias. */
  version: string;
  name: string;
}

const PARENT = /^projects\/([^/]+)(?:\/locations\/([^/]+))?$/;
const SECRET = /^projects\/([^/]+)(?:\/locations\/([^/]+))?\/secrets\/([^/]+)$/;
const VERSION = /^projects\/([^/]+)(?:\/locations\/([^/]+))?\/secrets\/([^/]+)\/versions\/([^/]+)$/;
const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;
// Pub/Sub topic ids: a letter, then 2-254 of letters, digits and -_.~+%, never starting with goog.
const TOPIC = /^projects\/[^/\s]+\/topics\/(?!goog)[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;
export const VERSION_NUMBER = /^[0-9]+$/;

const malformed = (value: string) =>
  invalidArgument(`Resource ID [${value}] is not in a valid format.`);

export function parseParent(value: string): ParentRef {
  const m = PARENT.exec(value);
  if (!m?.[1]) throw malformed(value);
  return { name: value, project: m[1], ...(m[2] ? { location: m[2] } : {}) };
}

export function parseSecretName(value: string): SecretRef {
  const m = SECRET.exec(value);
  if (!m?.[1] || !m[3]) throw malformed(value);
  return {
    name: value,
    project: m[1],
    secretId: m[3],
    ...(m[2] ? { location: m[2] } : {}),
  };
}

export function parseVersionName(value: string): VersionRef {
  const m = VERSION.exec(value);
  if (!m?.[1] || !m[3] || !m[4]) throw malformed(value);
  const secret = parseSecretName(value.slice(0, value.lastIndexOf('/versions/')));
  return { secret, version: m[4], name: value };
}

export const secretNameOf = (parent: ParentRef, secretId: string): string =>
  `${parent.name}/secrets/${secretId}`;

export const versionNameOf = (secretName: string, version: number | string): string =>
  `${secretName}/versions/${version}`;

export const isSecretId = (id: string): boolean => SECRET_ID.test(id);

export const isTopicName = (name: string): boolean => TOPIC.test(name);

/** The parent (`projects/P` or `projects/P/locations/L`) a secret lives under. */
export const parentOf = (secret: { project: string; location?: string }): string =>
  secret.location
    ? `projects/${secret.project}/locations/${secret.location}`
    : `projects/${secret.project}`;
