import type { z } from 'zod';
import type { Clock } from '../clock';
import type { Logger } from '../logging/logger';
import type { Redactor } from '../logging/redactor';
import type { TokenProvider } from './auth/token-provider';
import { DatabricksError } from './databricks-error';
import { errorFromFetchFailure, errorFromResponse } from './response-error';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetry } from './retry';

export interface HttpOptions {
  /** Workspace origin, e.g. https://1234567890123456.7.gcp.databricks.com */
  host: string;
  tokens: TokenProvider;
  clock: Clock;
  /** Uniform in [0, 1): jitter of the retry delays. */
  random: () => number;
  /** Scrubs registered values out of Databricks' error messages. */
  redactor: Redactor;
  logger: Logger;
  fetch?: typeof fetch;
  retry?: RetryPolicy;
  /** Per attempt; a slow answer is a network error (status 0, TIMEOUT). */
  requestTimeoutMs?: number;
}

export interface RequestSpec<S extends z.ZodType> {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Whether repeating the request is harmless; only idempotent requests are retried. */
  idempotent: boolean;
  schema: S;
}

export type DatabricksHttp = <S extends z.ZodType>(spec: RequestSpec<S>) => Promise<z.output<S>>;

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * One JSON request to the workspace: bearer token, timeout, error mapping, response validation and
 * the retry loop. Bodies and tokens stay out of every message and log line; a line names the
 * method, the path, the status and the error code.
 */
export function createDatabricksHttp(options: HttpOptions): DatabricksHttp {
  const doFetch = options.fetch ?? fetch;
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;

  return async (spec) => {
    const url = new URL(spec.path, options.host);
    for (const [name, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const what = `Databricks ${spec.method} ${spec.path}`;

    const attempt = async () => {
      const token = await options.tokens.getToken();
      let response: Response;
      try {
        response = await doFetch(url, {
          method: spec.method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(spec.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(spec.body === undefined ? {} : { body: JSON.stringify(spec.body) }),
          // A real timer on purpose: it bounds real I/O, which an injected clock cannot.
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw errorFromFetchFailure(what, err);
      }
      if (!response.ok) {
        throw await errorFromResponse(what, response, options.redactor, options.clock.now());
      }
      const parsed = spec.schema.safeParse(await readJson(response));
      if (!parsed.success) {
        const fields = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
        throw new DatabricksError(`${what} answered an unexpected shape (${fields})`, {
          status: response.status,
          errorCode: 'INVALID_RESPONSE',
        });
      }
      return parsed.data;
    };

    return withRetry(attempt, {
      policy,
      clock: options.clock,
      random: options.random,
      idempotent: spec.idempotent,
      onRetry: ({ attempt: n, delayMs, error }) =>
        options.logger.warning('databricks request retried', {
          method: spec.method,
          path: spec.path,
          status: error.status,
          errorCode: error.errorCode,
          attempt: n,
          delayMs,
        }),
    });
  };
}

/** The body as JSON ({} when empty); a body that is not JSON is an invalid answer, not retried. */
async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    // JSON.parse quotes the body in its message: say what happened without it.
    throw new DatabricksError(
      `Databricks answered ${response.status} with a body that is not JSON`,
      {
        status: response.status,
        errorCode: 'INVALID_RESPONSE',
      },
    );
  }
}
