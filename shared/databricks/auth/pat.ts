import type { Clock } from '../../clock';
import type { Redactor } from '../../logging/redactor';
import { cachedTokenProvider, type TokenProvider } from './token-provider';

/** How long a token read from Secret Manager is used before it is read again. */
export const PAT_REREAD_MS = 10 * 60_000;

/**
 * A personal access token kept in Secret Manager: the last resort. It lives long, acts as the user
 * who made it, and nothing here rotates it. Re-read every few minutes so a replaced token is
 * picked up without a redeploy.
 */
export function patTokenProvider(options: {
  tokenSecret: string;
  readSecret: (name: string) => Promise<string>;
  clock: Clock;
  redactor: Redactor;
}): TokenProvider {
  return cachedTokenProvider(
    async () => {
      const value = (await options.readSecret(options.tokenSecret)).trim();
      options.redactor.add(value);
      return { value, expiresAtMs: options.clock.now() + PAT_REREAD_MS };
    },
    { clock: options.clock, redactor: options.redactor, marginMs: 0 },
  );
}
