import { RotatorError } from '../errors';

/**
 * What a Databricks call failed with: the HTTP status (0 when no response came back) and the
 * Databricks `error_code`. The message names the method, the path and Databricks' own message
 * (scrubbed of registered values by the client); never a token or a request body.
 *
 * - `retryable`: 429, 503 and network errors/timeouts, which the retry loop rides out.
 * - `permanent`: the target itself is wrong (400, 401, 403, 404; jobs/clusters answer a missing id
 *   with 400 "... does not exist", which the SDKs map to RESOURCE_DOES_NOT_EXIST too). Repeating the
 *   rotation event cannot help.
 * Anything else (409, 500, 502, ...) is neither: the caller decides, a redelivery may help.
 */
export class DatabricksError extends RotatorError {
  readonly status: number;
  readonly errorCode: string;
  readonly retryable: boolean;
  readonly permanent: boolean;
  /** Seconds-or-date `Retry-After` of the answer, in milliseconds from receipt. */
  readonly retryAfterMs: number | undefined;
  /** How many attempts the retry loop made before giving up (1 when it was not retried). */
  attempts = 1;

  constructor(
    message: string,
    details: { status: number; errorCode: string; retryAfterMs?: number; cause?: unknown },
  ) {
    super(message, {
      cause: details.cause,
      context: { status: details.status, errorCode: details.errorCode },
    });
    this.name = 'DatabricksError';
    this.status = details.status;
    this.errorCode = details.errorCode;
    this.retryAfterMs = details.retryAfterMs;
    this.retryable = details.status === 0 || details.status === 429 || details.status === 503;
    this.permanent =
      details.status === 400 ||
      details.status === 401 ||
      details.status === 403 ||
      details.status === 404;
  }

  /** RESOURCE_DOES_NOT_EXIST, whether Databricks said 404 or 400 "... does not exist". */
  get notFound(): boolean {
    return this.errorCode === 'RESOURCE_DOES_NOT_EXIST';
  }
}

/** Status 0: the request never got an answer (connection refused or reset, DNS, timeout). */
export const NETWORK_ERROR = 'NETWORK_ERROR';
export const TIMEOUT = 'TIMEOUT';
