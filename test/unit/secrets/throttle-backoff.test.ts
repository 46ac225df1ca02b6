import { ThrottledError, TransientError } from '../../../shared/errors';
import type { SecretStore } from '../../../shared/secrets/secret-store';
import {
  DEFAULT_THROTTLE_BACKOFF,
  fullJitterDelay,
  withThrottleBackoff,
} from '../../../shared/secrets/throttle-backoff';

/** A clock whose sleep moves time at once, recording each wait. */
function fakeClock(start = 0) {
  let now = start;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    sleep: async (ms: number) => {
      waits.push(ms);
      now += ms;
    },
  };
}

/** A store whose getSecret is refused `refusals` times, then answers. */
function refusingStore(refusals: number, error: () => Error = () => new ThrottledError('quota')) {
  let calls = 0;
  const store = {
    getSecret: async (name: string) => {
      calls++;
      if (calls <= refusals) throw error();
      return { name, etag: 'e', labels: {}, annotations: {}, aliases: {}, topics: [] };
    },
  } as unknown as SecretStore;
  return { store, calls: () => calls };
}

describe('full jitter', () => {
  it('is uniform below a ceiling that doubles per refusal up to the cap', () => {
    const p = { baseDelayMs: 100, maxDelayMs: 1_000, triesAfterDeadline: 0 };
    expect([1, 2, 3, 4, 5, 9].map((n) => fullJitterDelay(n, p, () => 0.999999))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(fullJitterDelay(3, p, () => 0)).toBe(0);
  });
});

describe('withThrottleBackoff', () => {
  it('waits out refusals within the deadline and returns the answer', async () => {
    const clock = fakeClock();
    const { store, calls } = refusingStore(3);
    const s = withThrottleBackoff(store, { clock, random: () => 0.5, deadline: 60_000 });
    await expect(s.getSecret('projects/p/secrets/a')).resolves.toMatchObject({ etag: 'e' });
    expect(calls()).toBe(4);
    expect(clock.waits).toEqual([250, 500, 1_000]);
  });

  it('hands the ThrottledError back where the next wait would cross the deadline', async () => {
    const clock = fakeClock();
    const { store } = refusingStore(1_000);
    const s = withThrottleBackoff(store, { clock, random: () => 0.99, deadline: 10_000 });
    await expect(s.getSecret('projects/p/secrets/a')).rejects.toBeInstanceOf(ThrottledError);
    expect(clock.now()).toBeLessThanOrEqual(10_000);
    expect(clock.waits.length).toBeGreaterThan(2);
  });

  it('gives a call started after the deadline (the hand-back write) a few tries', async () => {
    const clock = fakeClock(20_000);
    const { store, calls } = refusingStore(1_000);
    const s = withThrottleBackoff(store, { clock, random: () => 0.5, deadline: 10_000 });
    await expect(s.getSecret('projects/p/secrets/a')).rejects.toBeInstanceOf(ThrottledError);
    expect(calls()).toBe(1 + DEFAULT_THROTTLE_BACKOFF.triesAfterDeadline);
    const late = refusingStore(2);
    const t = withThrottleBackoff(late.store, { clock, random: () => 0.5, deadline: 10_000 });
    await expect(t.getSecret('projects/p/secrets/a')).resolves.toMatchObject({ etag: 'e' });
  });

  it('once a call handed the delivery back, the next (the hand-back write) still gets its tries', async () => {
    const clock = fakeClock();
    let refusalsLeft = Number.POSITIVE_INFINITY;
    const store = {
      getSecret: async (name: string) => {
        if (refusalsLeft-- > 0) throw new ThrottledError('quota');
        return { name, etag: 'e', labels: {}, annotations: {}, aliases: {}, topics: [] };
      },
    } as unknown as SecretStore;
    const s = withThrottleBackoff(store, { clock, random: () => 0.99, deadline: 3_000 });
    await expect(s.getSecret('projects/p/secrets/a')).rejects.toBeInstanceOf(ThrottledError);
    expect(clock.now()).toBeLessThan(3_000);
    // Before the deadline, but the budget is spent: 3 refusals are waited out all the same.
    refusalsLeft = 3;
    await expect(s.getSecret('projects/p/secrets/a')).resolves.toMatchObject({ etag: 'e' });
  });

  it('never repeats other failures', async () => {
    const clock = fakeClock();
    const { store, calls } = refusingStore(1, () => new TransientError('unavailable'));
    const s = withThrottleBackoff(store, { clock, random: () => 0.5, deadline: 60_000 });
    await expect(s.getSecret('projects/p/secrets/a')).rejects.toBeInstanceOf(TransientError);
    expect(calls()).toBe(1);
  });
});
