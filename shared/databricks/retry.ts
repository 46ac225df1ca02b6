import type { Clock } from '../clock';
import { DatabricksError } from './databricks-error';

/**
 * The one retry loop of the Databricks client.
 *
 * Written here rather than taken from a library: none of the candidates fits all of (a) honour a
 * server's Retry-After per attempt, (b) sleep on an injected clock so tests move time instead of
 * waiting, (c) stop on a total time budget, (d) CommonJS on Node 20. p-retry >= 5 and cockatiel 4
 * are ESM-only (cockatiel 4 also needs Node 22); async-retry, exponential-backoff and fetch-retry
 * compute their own delays on real timers and have no time budget. The loop is 30 lines.
 *
 * What is retried: 429, 503 and network errors (DatabricksError.retryable), as the Python SDK does
 * (500 is not: the SDKs treat it as a real failure). A request that is not idempotent is never
 * repeated, whatever the error: a 503 or a reset connection may come after the server acted.
 */
export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  /** Time for all attempts and waits together, from the first attempt. */
  budgetMs: number;
  /** First backoff ceiling; doubles per attempt up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  budgetMs: 60_000,
  baseDelayMs: 1_000,
  maxDelayMs: 15_000,
};

/** Databricks sends 429 without Retry-After at times (sdk-py #391, #402): wait 1 s then. */
export const DEFAULT_RETRY_AFTER_MS = 1_000;

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '\\d{2}:\\d{2}:\\d{2}';
/** The three HTTP-date forms a recipient must accept (RFC 9110 5.6.7); asctime carries no zone. */
const HTTP_DATE = [
  new RegExp(`^${DAY}, \\d{2} ${MONTH} \\d{4} ${TIME} GMT$`),
  new RegExp(`^${DAY}[a-z]*, \\d{2}-${MONTH}-\\d{2} ${TIME} GMT$`),
  new RegExp(`^${DAY} ${MONTH} (?:\\d{2}| \\d) ${TIME} \\d{4}$`),
];

/**
 * `Retry-After` in milliseconds from `nowMs`: delta-seconds or an HTTP-date (RFC 9110 10.2.3).
 * Undefined when absent or unreadable (`-3`, `2026-11`: Date.parse would take them for dates);
 * an HTTP-date in the past means "now".
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number,
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const form = HTTP_DATE.findIndex((re) => re.test(trimmed));
  if (form < 0) return undefined;
  const date = Date.parse(form === 2 ? `${trimmed} GMT` : trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/**
 * Exponential backoff with "equal jitter": the ceiling doubles per failed attempt (1-based) and
 * the delay falls in [ceiling / 2, ceiling], so waits grow but concurrent callers spread out.
 */
export function backoffDelay(failedAttempts: number, policy: RetryPolicy, random: () => number) {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempts - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** The wait before the next attempt: never shorter than what the server asked for. */
export function retryDelay(
  error: DatabricksError,
  failedAttempts: number,
  policy: RetryPolicy,
  random: () => number,
): number {
  const throttled = error.status === 429 || error.status === 503;
  const serverAsked = error.retryAfterMs ?? (throttled ? DEFAULT_RETRY_AFTER_MS : 0);
  return Math.max(serverAsked, backoffDelay(failedAttempts, policy, random));
}

export interface RetryEvent {
  attempt: number;
  delayMs: number;
  error: DatabricksError;
}

export interface RetryOptions {
  policy: RetryPolicy;
  clock: Clock;
  /** Uniform in [0, 1), injected so tests can pin the jitter. */
  random: () => number;
  /** False for a POST that would act twice if repeated: it gets exactly one attempt. */
  idempotent: boolean;
  onRetry?: (event: RetryEvent) => void;
}

export async function withRetry<T>(operation: () => Promise<T>, options: RetryOptions): Promise<T> {
  const { policy, clock, random } = options;
  const started = clock.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (err) {
      if (!(err instanceof DatabricksError)) throw err;
      err.attempts = attempt;
      if (!err.retryable || !options.idempotent || attempt >= policy.maxAttempts) throw err;
      const delayMs = retryDelay(err, attempt, policy, random);
      // Waiting past the budget only to fail later helps nobody: give up now.
      if (clock.now() - started + delayMs > policy.budgetMs) throw err;
      options.onRetry?.({ attempt, delayMs, error: err });
      await clock.sleep(delayMs);
    }
  }
}
