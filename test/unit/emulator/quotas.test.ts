import { status } from '@grpc/grpc-js';
import { QuotaLimiter } from '../../../emulator/secret-manager/quotas';
import { KIND_OF } from '../../../emulator/secret-manager/request-kinds';

/** Production's figures, checked without the wire; the conformance suite checks the wire. */
function limiter(options = {}) {
  let now = Date.parse('2026-11-29T12:00:00Z');
  const clock = { now: () => now, sleep: async () => {} };
  return { q: new QuotaLimiter(clock, options), advance: (ms: number) => (now += ms) };
}
const refusedAfter = (admit: (i: number) => void): number => {
  for (let i = 0; ; i++) {
    try {
      admit(i);
    } catch (err) {
      expect(err).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
      return i;
    }
  }
};

describe('quota limiter', () => {
  it('takes 600 reads, 600 writes and 90,000 accesses per minute per project', () => {
    const { q } = limiter();
    expect(refusedAfter(() => q.admit('getSecret', { name: 'projects/p/secrets/s' }))).toBe(600);
    expect(
      refusedAfter((i) => q.admit('addSecretVersion', { parent: `projects/p/secrets/s${i}` })),
    ).toBe(600);
    expect(
      refusedAfter(() =>
        q.admit('accessSecretVersion', { name: 'projects/p/secrets/s/versions/1' }),
      ),
    ).toBe(90_000);
    expect(q.refused).toBe(3);
  });

  it('takes 2 adds/updates per global secret per second, 80 per regional one', () => {
    const { q, advance } = limiter();
    const global = (i: number) =>
      i % 2
        ? q.admit('updateSecret', { secret: { name: 'projects/p/secrets/g' } })
        : q.admit('addSecretVersion', { parent: 'projects/p/secrets/g' });
    expect(refusedAfter(global)).toBe(2);
    advance(1000);
    expect(refusedAfter(global)).toBe(2);
    expect(
      refusedAfter(() =>
        q.admit('addSecretVersion', { parent: 'projects/p/locations/l/secrets/r' }),
      ),
    ).toBe(80);
  });

  it('takes 1 enable/disable/destroy per version per second; perResource: false lifts it', () => {
    const name = { name: 'projects/p/secrets/s/versions/1' };
    const held = limiter().q;
    expect(refusedAfter(() => held.admit('disableSecretVersion', name))).toBe(1);
    const free = limiter({ perResource: false }).q;
    expect(refusedAfter(() => free.admit('disableSecretVersion', name))).toBe(600);
  });

  it('classifies every method', () => {
    expect(Object.values(KIND_OF).every((k) => ['read', 'write', 'access'].includes(k))).toBe(true);
  });
});
