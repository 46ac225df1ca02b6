import type { SecretEvent } from './events';

/**
 * Drives everything that happens by the clock (rotations, expirations, scheduled destructions).
 * Tests with an injected clock call `check()` after moving time; with the system clock a short,
 * unref'd interval calls it, so a due rotation is announced within `intervalMs` and the timer
 * never keeps a process alive.
 */
export class RotationClock {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly processDue: () => SecretEvent[],
    private readonly onEvents: (events: SecretEvent[]) => void,
  ) {}

  /** Processes everything due now; returns what happened. */
  check(): SecretEvent[] {
    const events = this.processDue();
    if (events.length > 0) this.onEvents(events);
    return events;
  }

  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
