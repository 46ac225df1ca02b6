/**
 * Pub/Sub's retry-policy curve: the first retry waits `minMs`, each further one doubles, never
 * beyond `maxMs`. `failures` counts the failed deliveries so far (1 after the first failure).
 * Shared by the stand-in's retry_policy and push backoff and by the Eventarc bridge.
 */
export function exponentialBackoffMs(failures: number, minMs: number, maxMs: number): number {
  const exponent = Math.max(0, failures - 1);
  // 2 ** 60 already exceeds any sane max; the cap keeps the arithmetic finite.
  return Math.min(maxMs, minMs * 2 ** Math.min(exponent, 60));
}
