import type { Credential, Endpoint, LoginResult } from './engine';
import { validateTestQuery } from './test-query';

/** The query a login test runs when the secret configures none. */
export const DEFAULT_TEST_QUERY = 'SELECT 1';

/** What an engine supplies to the login test: how to connect, run one read, and close. */
export interface LoginVerbs<Session> {
  /** `{ ok: false }` only when the server rejected the credential; anything else throws. */
  connect(
    endpoint: Endpoint,
    credential: Credential,
  ): Promise<{ ok: true; session: Session } | { ok: false }>;
  /**
   * Run `query` so that the server enforces read-only (not only the client's rule): a failing or
   * writing query throws PermanentError (a classified driver error), without any secret.
   */
  runTestQuery(session: Session, query: string): Promise<void>;
  /** Close, never throwing. */
  close(session: Session): Promise<void>;
}

/**
 * The one login test every engine shares (DatabaseEngine.tryLogin): validate the query first (the
 * same rule as the config, so nothing reaches a server that the config would refuse), log in,
 * run the query read-only, always close.
 */
export async function tryLoginWith<Session>(
  verbs: LoginVerbs<Session>,
  endpoint: Endpoint,
  credential: Credential,
  testQuery?: string,
): Promise<LoginResult> {
  const query = testQuery === undefined ? DEFAULT_TEST_QUERY : validateTestQuery(testQuery);
  const connected = await verbs.connect(endpoint, credential);
  if (!connected.ok) return { ok: false, reason: 'rejected' };
  try {
    await verbs.runTestQuery(connected.session, query);
    return { ok: true };
  } finally {
    await verbs.close(connected.session);
  }
}
