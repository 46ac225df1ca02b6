import type { Clock } from '../../clock';
import type { Redactor } from '../../logging/redactor';
import type { RetryPolicy } from '../retry';
import type { WorkspaceConfig } from '../workspace-config';
import {
  googleIdTokenProvider,
  type IdTokenSource,
  impersonatedIdTokenSource,
  runtimeIdTokenSource,
} from './google-id';
import { oauthM2mTokenProvider } from './oauth-m2m';
import { patTokenProvider } from './pat';
import type { TokenProvider } from './token-provider';

export interface AuthDeps {
  clock: Clock;
  random: () => number;
  /** Every token and secret read is registered here before it is used. */
  redactor: Redactor;
  /** Reads a Secret Manager secret (latest enabled version) by name; used by oauth-m2m and pat. */
  readSecret: (name: string) => Promise<string>;
  fetch?: typeof fetch;
  retry?: RetryPolicy;
  /** Replaces Google for google-id (tests, or a caller with its own google-auth-library setup). */
  idTokenSource?: IdTokenSource;
}

/** The token provider the workspace config asks for. */
export function createTokenProvider(workspace: WorkspaceConfig, deps: AuthDeps): TokenProvider {
  const { auth, host } = workspace;
  switch (auth.type) {
    case 'google-id': {
      const source =
        deps.idTokenSource ??
        (auth.impersonate ? impersonatedIdTokenSource(auth.impersonate) : runtimeIdTokenSource());
      return googleIdTokenProvider(host, source, deps);
    }
    case 'oauth-m2m':
      return oauthM2mTokenProvider({
        host,
        clientId: auth.clientId,
        clientSecretSecret: auth.clientSecretSecret,
        readSecret: deps.readSecret,
        clock: deps.clock,
        random: deps.random,
        redactor: deps.redactor,
        fetch: deps.fetch,
        retry: deps.retry,
      });
    case 'pat':
      return patTokenProvider({
        tokenSecret: auth.tokenSecret,
        readSecret: deps.readSecret,
        clock: deps.clock,
        redactor: deps.redactor,
      });
  }
}
