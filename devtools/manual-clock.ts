import type { Clock } from '../shared/clock';

/**
 * A clock that only moves when told to; `sleep` moves it (and resolves at once), so retry waits
 * and token expiries cost no real time. `sleeps` lists every wait asked for.
 */
export class ManualClock implements Clock {
  readonly sleeps: number[] = [];

  constructor(private current = Date.parse('2026-11-02T10:00:00Z')) {}

  now(): number {
    return this.current;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.current += ms;
  }

  advance(ms: number): void {
    this.current += ms;
  }
}
