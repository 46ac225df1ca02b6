import { type AuthClient, GoogleAuth, Impersonated } from 'google-auth-library';
import type { Clock } from '../../clock';
import type { Redactor } from '../../logging/redactor';
import { jwtExpiryMs } from './jwt-expiry';
import { cachedTokenProvider, type TokenProvider } from './token-provider';

/**
 * Google ID tokens for Databricks, audience = the workspace URL. Databricks accepts Google-issued
 * ID tokens of a service account that is a principal of the workspace; no key is stored anywhere.
 */
export interface IdTokenSource {
  fetchIdToken(audience: string): Promise<string>;
}

const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

/**
 * The function's own service account (on Cloud Functions: the metadata server). google-auth-
 * library's IdTokenClient caches on the real clock; the provider below caches on the injected one,
 * so only its token provider is used.
 */
export function runtimeIdTokenSource(auth: GoogleAuth = new GoogleAuth()): IdTokenSource {
  return {
    async fetchIdToken(audience) {
      const client = await auth.getIdTokenClient(audience);
      return client.idTokenProvider.fetchIdToken(audience);
    },
  };
}

/**
 * A service account that the function's account impersonates (IAM Credentials generateIdToken;
 * the caller needs roles/iam.serviceAccountTokenCreator on it), as Databricks recommends.
 * `include_email` puts the account's email in the token, which is how Databricks names the
 * principal. `endpoint` points at a stand-in IAM Credentials server in tests.
 */
export function impersonatedIdTokenSource(
  targetPrincipal: string,
  options: { sourceClient?: AuthClient; endpoint?: string } = {},
): IdTokenSource {
  let impersonated: Promise<Impersonated> | undefined;
  const build = async () =>
    new Impersonated({
      sourceClient:
        options.sourceClient ?? (await new GoogleAuth({ scopes: [CLOUD_PLATFORM] }).getClient()),
      targetPrincipal,
      targetScopes: [CLOUD_PLATFORM],
      delegates: [],
      endpoint: options.endpoint,
    });
  return {
    async fetchIdToken(audience) {
      impersonated ??= build();
      return (await impersonated).fetchIdToken(audience, { includeEmail: true });
    },
  };
}

/** Bearer tokens from `source`, cached until shortly before the `exp` inside each token. */
export function googleIdTokenProvider(
  audience: string,
  source: IdTokenSource,
  deps: { clock: Clock; redactor: Redactor; marginMs?: number },
): TokenProvider {
  return cachedTokenProvider(async () => {
    const value = await source.fetchIdToken(audience);
    deps.redactor.add(value);
    return { value, expiresAtMs: jwtExpiryMs(value) };
  }, deps);
}
