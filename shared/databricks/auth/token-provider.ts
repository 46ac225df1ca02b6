import type { Clock } from '../../clock';
import type { Redactor } from '../../logging/redactor';

/** Where the client gets the bearer token for each request. */
export interface TokenProvider {
  getToken(): Promise<string>;
}

export interface ExpiringToken {
  value: string;
  /** Milliseconds since the epoch. */
  expiresAtMs: number;
}

/** google-auth-library's own eager-refresh threshold: a token is renewed 5 minutes early. */
export const DEFAULT_REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * Caches the token from `mint` until `marginMs` before it expires, so a request never leaves with
 * a token that dies in flight. Concurrent callers share one mint. Every minted token is
 * registered with the redactor before anyone sees it.
 */
export function cachedTokenProvider(
  mint: () => Promise<ExpiringToken>,
  deps: { clock: Clock; redactor: Redactor; marginMs?: number },
): TokenProvider {
  const marginMs = deps.marginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  let current: ExpiringToken | undefined;
  let pending: Promise<ExpiringToken> | undefined;

  const refresh = (): Promise<ExpiringToken> => {
    pending ??= mint()
      .then((token) => {
        deps.redactor.add(token.value);
        current = token;
        return token;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };

  return {
    async getToken() {
      if (current && deps.clock.now() < current.expiresAtMs - marginMs) return current.value;
      return (await refresh()).value;
    },
  };
}
