/**
 * The fake's sense of time. Transitions (a run starting, a pipeline reaching IDLE) are scheduled at
 * a due time and applied lazily, whenever the fake is looked at: no timers to leak, and a test can
 * drive `now` itself when it wants to.
 */
export class Timeline {
  private events: { at: number; seq: number; apply: () => void }[] = [];
  private seq = 0;
  /** While a transition applies, the time it was due: what it schedules counts from there. */
  private applying: number | undefined;

  constructor(readonly now: () => number = Date.now) {}

  after(ms: number, apply: () => void): void {
    this.events.push({ at: (this.applying ?? this.now()) + ms, seq: this.seq++, apply });
  }

  /** Applies every due transition in order, including ones that due transitions schedule. */
  advance(): void {
    for (;;) {
      const now = this.now();
      const due = this.events
        .filter((e) => e.at <= now)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) return;
      this.events = this.events.filter((e) => e !== due);
      this.applying = due.at;
      try {
        due.apply();
      } finally {
        this.applying = undefined;
      }
    }
  }
}
