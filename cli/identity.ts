import type { GoogleAuth } from 'google-auth-library';

/**
 * Who is signed in to Google, for `rotate --requested-by`'s default. A claim recorded with the
 * rotation, never a check: the request travels on Pub/Sub, and the rotator cannot verify who
 * wrote it (see docs/operations.md). Reading it costs no Secret Manager call.
 *
 * How google-auth-library (googleauth.js `getCredentialsAsync`) names the identity:
 * - impersonation (`--impersonate-service-account`): the target principal;
 * - a service account key, workload identity federation with impersonation, or the metadata
 *   server: the service account's email;
 * - a user login (`gcloud auth application-default login`, an `authorized_user` file): no email in
 *   the file, so the access token's own email, from Google's tokeninfo endpoint. gcloud grants the
 *   `userinfo.email` scope by default, so the token carries it.
 */
export type AuthLike = Pick<GoogleAuth, 'getCredentials' | 'getClient'>;

export async function googleIdentity(auth: AuthLike): Promise<string | undefined> {
  const credentials = await auth.getCredentials();
  if (credentials.client_email) return credentials.client_email;
  const client = await auth.getClient();
  const { token } = await client.getAccessToken();
  const tokenInfo = (client as { getTokenInfo?: (t: string) => Promise<{ email?: string }> })
    .getTokenInfo;
  if (!token || tokenInfo === undefined) return undefined;
  const info = await tokenInfo.call(client, token);
  return info.email || undefined;
}

/**
 * The default of `--requested-by`: the signed-in Google identity; `$USER` (or `%USERNAME%`) when
 * there is none, it cannot be read within `timeoutMs`, or the CLI talks to the local stack (no
 * Google sign-in there). `identity` fails or hangs freely: this never throws.
 */
export async function defaultRequester(
  identity: () => Promise<string | undefined>,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<string | undefined> {
  const fallback = env.USER || env.USERNAME || undefined;
  if (env.SECRET_MANAGER_EMULATOR_HOST) return fallback;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    const who = await Promise.race([identity().catch(() => undefined), late]);
    return who ?? fallback;
  } finally {
    clearTimeout(timer);
  }
}
