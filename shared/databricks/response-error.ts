import type { Redactor } from '../logging/redactor';
import { DatabricksError, NETWORK_ERROR, TIMEOUT } from './databricks-error';
import { parseRetryAfter } from './retry';
import { ErrorBodySchema } from './schemas';

/** Databricks' documented error code per status, for answers that carry none. */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'INVALID_PARAMETER_VALUE',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'RESOURCE_DOES_NOT_EXIST',
  409: 'RESOURCE_CONFLICT',
  429: 'TOO_MANY_REQUESTS',
  503: 'TEMPORARILY_UNAVAILABLE',
};

const MAX_MESSAGE = 300;

/**
 * A DatabricksError from a non-2xx answer. Only the error code and Databricks' short message are
 * kept, scrubbed of every registered value and then cut to MAX_MESSAGE characters; the rest of the
 * body is dropped.
 */
export async function errorFromResponse(
  what: string,
  response: Response,
  redactor: Redactor,
  nowMs: number,
): Promise<DatabricksError> {
  const text = await response.text().catch(() => '');
  let body: { error_code?: string; message?: string } = {};
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) body = parsed.data;
  } catch {
    // Not JSON (a gateway page): the status alone has to do.
  }
  // Scrub first, then cut: a cut through a registered value would leave a prefix the scrub no
  // longer recognises as that value.
  const message = redactor.scrub(body.message ?? response.statusText).slice(0, MAX_MESSAGE);
  let errorCode = body.error_code ?? CODE_BY_STATUS[response.status] ?? `HTTP_${response.status}`;
  // jobs/get, runs/get and clusters/get answer a missing id with 400 "... does not exist".
  if (response.status === 400 && /does not exist/i.test(message)) {
    errorCode = 'RESOURCE_DOES_NOT_EXIST';
  }
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), nowMs);
  return new DatabricksError(`${what} failed: ${response.status} ${errorCode}: ${message}`, {
    status: response.status,
    errorCode,
    retryAfterMs,
  });
}

/** A DatabricksError (status 0) for a request that got no answer at all. */
export function errorFromFetchFailure(what: string, err: unknown): DatabricksError {
  // By name, not instanceof: fetch's DOMException may come from another realm (vm contexts).
  const name =
    typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  const timedOut = name === 'TimeoutError' || name === 'AbortError';
  const errorCode = timedOut ? TIMEOUT : NETWORK_ERROR;
  const reason = timedOut ? 'timed out' : 'got no answer';
  return new DatabricksError(`${what} ${reason}`, { status: 0, errorCode, cause: err });
}
