import type { Clock } from '../../shared/clock';

/**
 * Etags shaped like production's: a quoted hex count of microseconds (`"165cdb2653c7d9"`),
 * strictly increasing, so every write gets a new one even within one clock tick or under a frozen
 * test clock.
 */
export interface EtagSource {
  next(): string;
  /** The last value handed out, kept across restarts so etags never repeat. */
  readonly last: number;
}

export function createEtagSource(clock: Clock, last = 0): EtagSource {
  let current = last;
  return {
    next() {
      current = Math.max(Math.floor(clock.now() * 1000), current + 1);
      return `"${current.toString(16)}"`;
    },
    get last() {
      return current;
    },
  };
}
