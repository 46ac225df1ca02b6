import { ManualClock } from '../../../devtools/manual-clock';
import { DatabricksError } from '../../../shared/databricks/databricks-error';
import {
  backoffDelay,
  DEFAULT_RETRY_AFTER_MS,
  parseRetryAfter,
  type RetryPolicy,
  retryDelay,
  withRetry,
} from '../../../shared/databricks/retry';

const policy: RetryPolicy = {
  maxAttempts: 6,
  budgetMs: 30_000,
  baseDelayMs: 200,
  maxDelayMs: 4_000,
};

const error = (status: number, retryAfterMs?: number) =>
  new DatabricksError(`status ${status}`, { status, errorCode: `E${status}`, retryAfterMs });

/** An operation that fails with `errors` in turn, then answers 'ok'. */
function scripted(errors: Error[]) {
  const calls: number[] = [];
  const op = async () => {
    calls.push(calls.length + 1);
    const next = errors.shift();
    if (next) throw next;
    return 'ok';
  };
  return { op, calls };
}

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-02T10:00:00Z');

  it.each([
    ['3', 3_000],
    ['0', 0],
    [' 1.5 ', 1_500],
    ['Mon, 02 Nov 2026 10:00:07 GMT', 7_000],
    ['Mon, 02 Nov 2026 09:59:00 GMT', 0],
    ['Monday, 02-Nov-26 10:00:05 GMT', 5_000],
    ['Mon Nov  2 10:00:04 2026', 4_000],
  ])('reads %p as %p ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  // A negative number or an ISO date is not a date in the past ("now"): Date.parse would say so.
  it.each([null, undefined, 'soon', '', '-3', '-0.5', '2026-11', '1e3', '2026-11-02T10:00:07Z'])(
    'ignores %p',
    (value) => {
      expect(parseRetryAfter(value, now)).toBeUndefined();
    },
  );

  it('a throttled answer with an unreadable Retry-After waits the default, not 0 ms', () => {
    const err = new DatabricksError('x', {
      status: 429,
      errorCode: 'TOO_MANY_REQUESTS',
      retryAfterMs: parseRetryAfter('-3', now),
    });
    expect(retryDelay(err, 1, { ...policy, baseDelayMs: 1, maxDelayMs: 1 }, () => 0)).toBe(
      DEFAULT_RETRY_AFTER_MS,
    );
  });
});

describe('backoffDelay', () => {
  it('doubles its ceiling per attempt and jitters within [ceiling/2, ceiling]', () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(100);
    expect(backoffDelay(1, policy, () => 0.999999)).toBe(200);
    expect(backoffDelay(3, policy, () => 0)).toBe(400);
    expect(backoffDelay(3, policy, () => 0.999999)).toBe(800);
  });

  it('never exceeds maxDelayMs', () => {
    for (let attempt = 1; attempt < 30; attempt++) {
      const delay = backoffDelay(attempt, policy, Math.random);
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(policy.maxDelayMs);
    }
  });
});

describe('retryDelay', () => {
  it('waits what Retry-After asks when that is longer than the backoff', () => {
    expect(retryDelay(error(429, 2_500), 1, policy, () => 0.5)).toBe(2_500);
  });

  it('waits 1 s on a 429 or 503 without Retry-After', () => {
    expect(retryDelay(error(429), 1, policy, () => 0.5)).toBe(DEFAULT_RETRY_AFTER_MS);
    expect(retryDelay(error(503), 1, policy, () => 0.5)).toBe(DEFAULT_RETRY_AFTER_MS);
  });

  it('keeps the longer backoff once it outgrows the server hint', () => {
    expect(retryDelay(error(429, 0), 5, policy, () => 0.999999)).toBe(3_200);
  });

  it('uses the backoff alone for a network error', () => {
    expect(retryDelay(error(0), 1, policy, () => 0)).toBe(100);
  });
});

describe('withRetry', () => {
  it('rides out 429s and 503s, sleeping as Retry-After says, on the injected clock', async () => {
    const clock = new ManualClock();
    const { op, calls } = scripted([error(429, 2_000), error(503), error(0)]);

    const result = await withRetry(op, { policy, clock, random: () => 0, idempotent: true });

    expect(result).toBe('ok');
    expect(calls).toHaveLength(4);
    expect(clock.sleeps).toEqual([2_000, 1_000, 400]);
  });

  it('gives up before a wait would overrun the budget, with the last error', async () => {
    const clock = new ManualClock();
    const { op, calls } = scripted([error(429, 20_000), error(429, 20_000), error(429, 20_000)]);

    const failure = withRetry(op, { policy, clock, random: () => 0, idempotent: true });

    await expect(failure).rejects.toMatchObject({ status: 429, attempts: 2 });
    expect(calls).toHaveLength(2);
    expect(clock.sleeps).toEqual([20_000]);
  });

  it('stops at maxAttempts', async () => {
    const clock = new ManualClock();
    const { op, calls } = scripted(Array.from({ length: 10 }, () => error(503)));

    await expect(
      withRetry(op, { policy, clock, random: () => 0, idempotent: true }),
    ).rejects.toMatchObject({ status: 503, attempts: policy.maxAttempts });
    expect(calls).toHaveLength(policy.maxAttempts);
  });

  it.each([429, 503, 0])('never repeats a non-idempotent request (status %p)', async (status) => {
    const clock = new ManualClock();
    const { op, calls } = scripted([error(status)]);

    await expect(
      withRetry(op, { policy, clock, random: () => 0, idempotent: false }),
    ).rejects.toMatchObject({ status, attempts: 1 });
    expect(calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it.each([400, 403, 404, 409, 500])('does not retry status %p', async (status) => {
    const clock = new ManualClock();
    const { op, calls } = scripted([error(status)]);

    await expect(
      withRetry(op, { policy, clock, random: () => 0, idempotent: true }),
    ).rejects.toMatchObject({ status });
    expect(calls).toHaveLength(1);
  });

  it('rethrows anything that is not a DatabricksError at once', async () => {
    const clock = new ManualClock();
    const { op, calls } = scripted([new TypeError('bug')]);

    await expect(
      withRetry(op, { policy, clock, random: () => 0, idempotent: true }),
    ).rejects.toThrow(TypeError);
    expect(calls).toHaveLength(1);
  });

  it('reports each retry before sleeping', async () => {
    const clock = new ManualClock();
    const { op } = scripted([error(429, 1_500)]);
    const events: { attempt: number; delayMs: number; status: number }[] = [];

    await withRetry(op, {
      policy,
      clock,
      random: () => 0,
      idempotent: true,
      onRetry: (e) =>
        events.push({ attempt: e.attempt, delayMs: e.delayMs, status: e.error.status }),
    });

    expect(events).toEqual([{ attempt: 1, delayMs: 1_500, status: 429 }]);
  });
});
