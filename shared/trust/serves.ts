import { z } from 'zod';
import { SecretNameSchema } from '../config/rotation-config';
import { IDENTIFIER_PATTERN } from '../engines/identifiers';
import { formatIssues } from '../zod-issues';
import { TrustError } from './trust-error';

/**
 * The annotation on an ADMIN secret that says which managed secrets may use it and which logins
 * each may change: `{ "<managed secret full name>": ["login", ...] }`. It lives on the admin secret
 * because only the admin secret's owners can write it: nothing a requester or a managed secret's
 * writer controls can widen what an admin credential is used for (DESIGN invariant 8).
 * Keys are the managed secret's full name exactly as Secret Manager reports it
 * (`gcloud secrets describe S --format='value(name)'`: the project number on Google Cloud).
 */
export const SERVES_KEY = 'rotator.serves';

const LoginSchema = z.string().min(1).max(80).regex(IDENTIFIER_PATTERN, 'a login name');

export const ServesSchema = z.record(SecretNameSchema, z.array(LoginSchema).min(1).max(10));
export type Serves = z.output<typeof ServesSchema>;

/** The parsed `rotator.serves` of an admin secret; TrustError when missing or malformed. */
export function readServes(adminSecret: string, annotations: Record<string, string>): Serves {
  const text = annotations[SERVES_KEY];
  if (text === undefined) {
    throw new TrustError(
      `admin secret ${adminSecret} serves no managed secret: it has no ${SERVES_KEY} annotation`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TrustError(`admin secret ${adminSecret} has a ${SERVES_KEY} that is not JSON`);
  }
  const parsed = ServesSchema.safeParse(json);
  if (!parsed.success) {
    throw new TrustError(
      `admin secret ${adminSecret} has an invalid ${SERVES_KEY}: ${formatIssues(parsed.error)}`,
    );
  }
  return parsed.data;
}

/**
 * Refuses (TrustError) unless the admin secret serves `secret` and every one of `logins` for it.
 * Runs on the admin secret's metadata alone, before its value is read.
 */
export function assertServes(
  adminSecret: string,
  annotations: Record<string, string>,
  secret: string,
  logins: readonly string[],
): readonly string[] {
  const served = readServes(adminSecret, annotations)[secret];
  if (served === undefined) {
    throw new TrustError(
      `admin secret ${adminSecret} does not serve secret ${secret} (not a key of its ${SERVES_KEY})`,
    );
  }
  for (const login of logins) {
    if (!served.includes(login)) {
      throw new TrustError(
        `admin secret ${adminSecret} does not serve login ${login} for secret ${secret} ` +
          `(not listed in its ${SERVES_KEY})`,
      );
    }
  }
  return served;
}

/**
 * Refuses (TrustError) the admin's own login among the logins to change, or listed as served:
 * a rotation must never change the credential it runs as.
 */
export function assertNotAdminLogin(
  adminSecret: string,
  adminLogin: string,
  secret: string,
  logins: readonly string[],
  served: readonly string[],
): void {
  if (logins.includes(adminLogin) || served.includes(adminLogin)) {
    throw new TrustError(
      `login ${adminLogin} is admin secret ${adminSecret}'s own login: it is never rotated ` +
        `through it (secret ${secret})`,
    );
  }
}
