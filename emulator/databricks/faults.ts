/**
 * Faults a test injects: the next `times` requests matching path (and method) answer `status`
 * (429 with or without Retry-After, 503, 403, 404, ...) or are answered only after `delayMs`.
 */
export interface FaultSpec {
  path: string | RegExp;
  method?: string;
  /** Answer this status instead of the real one; omit for a slow but otherwise real answer. */
  status?: number;
  /** How many matching requests the fault hits (default 1; Infinity for all). */
  times?: number;
  /** Retry-After header: delta-seconds (number or string) or an HTTP date. */
  retryAfter?: number | string;
  delayMs?: number;
  errorCode?: string;
}

export class Faults {
  private readonly faults: (FaultSpec & { left: number })[] = [];

  add(fault: FaultSpec): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  clear(): void {
    this.faults.length = 0;
  }

  /** The fault this request hits, used up by one. */
  take(method: string, path: string): FaultSpec | undefined {
    const fault = this.faults.find(
      (f) =>
        f.left > 0 &&
        (f.method === undefined || f.method.toUpperCase() === method) &&
        (typeof f.path === 'string' ? f.path === path : f.path.test(path)),
    );
    if (fault) fault.left--;
    return fault;
  }
}
