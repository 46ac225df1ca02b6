import { z } from 'zod';
import type { Clock } from '../../clock';
import type { Redactor } from '../../logging/redactor';
import { DatabricksError } from '../databricks-error';
import { errorFromFetchFailure } from '../response-error';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetry } from '../retry';
import { cachedTokenProvider, type TokenProvider } from './token-provider';

const TokenResponseSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
});

const OAuthErrorSchema = z.object({ error: z.string().optional() });

export interface OAuthM2mOptions {
  host: string;
  clientId: string;
  /** Secret Manager name of the service principal's OAuth secret. */
  clientSecretSecret: string;
  readSecret: (name: string) => Promise<string>;
  clock: Clock;
  random: () => number;
  redactor: Redactor;
  fetch?: typeof fetch;
  retry?: RetryPolicy;
  marginMs?: number;
}

/**
 * OAuth machine-to-machine: client_credentials at the workspace's /oidc/v1/token with scope
 * all-apis, the client id and secret as HTTP Basic. The secret is read from Secret Manager each
 * time a token is minted (about hourly), so a rotated client secret is picked up.
 */
export function oauthM2mTokenProvider(options: OAuthM2mOptions): TokenProvider {
  const doFetch = options.fetch ?? fetch;
  const url = new URL('/oidc/v1/token', options.host);
  const what = 'Databricks OAuth token request';

  const requestToken = async (basic: string) => {
    let response: Response;
    try {
      response = await doFetch(url, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'all-apis' }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw errorFromFetchFailure(what, err);
    }
    const body: unknown = await response.json().catch(() => ({}));
    if (!response.ok) {
      // OAuth errors name a code (invalid_client, ...); the description is left out.
      const parsed = OAuthErrorSchema.safeParse(body);
      const errorCode = (parsed.success && parsed.data.error) || `HTTP_${response.status}`;
      throw new DatabricksError(`${what} failed: ${response.status} ${errorCode}`, {
        status: response.status,
        errorCode,
      });
    }
    const parsed = TokenResponseSchema.safeParse(body);
    if (!parsed.success) {
      throw new DatabricksError(`${what} answered an unexpected shape`, {
        status: response.status,
        errorCode: 'INVALID_RESPONSE',
      });
    }
    return parsed.data;
  };

  return cachedTokenProvider(
    async () => {
      const secret = await options.readSecret(options.clientSecretSecret);
      options.redactor.add(secret);
      const basic = Buffer.from(`${options.clientId}:${secret}`).toString('base64');
      options.redactor.add(basic);
      const requestedAt = options.clock.now();
      // Minting a token twice is harmless: the request is idempotent for the retry loop.
      const answer = await withRetry(() => requestToken(basic), {
        policy: options.retry ?? DEFAULT_RETRY_POLICY,
        clock: options.clock,
        random: options.random,
        idempotent: true,
      });
      options.redactor.add(answer.access_token);
      return { value: answer.access_token, expiresAtMs: requestedAt + answer.expires_in * 1000 };
    },
    {
      clock: options.clock,
      redactor: options.redactor,
      marginMs: options.marginMs,
    },
  );
}
