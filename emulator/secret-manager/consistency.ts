/**
 * Eventual consistency of alias and `latest` reads. Secret Manager documents that access through
 * an alias or `latest` may lag behind writes ("typically minutes"), while access by version number
 * is strongly consistent. With a delay configured, the store records, per secret, what each alias
 * and `latest` pointed at over time, and alias/latest reads resolve against the state as it was
 * `delayMs` ago. The version itself is then read as it is now.
 */
export interface PointerSnapshot {
  aliases: Record<string, number>;
  /** Highest version number, 0 when there is none. */
  latest: number;
}

export class DelayedPointers {
  private readonly history = new Map<string, { at: number; snapshot: PointerSnapshot }[]>();

  constructor(readonly delayMs: number) {}

  record(secretName: string, snapshot: PointerSnapshot, at: number): void {
    const entries = this.history.get(secretName) ?? [];
    entries.push({ at, snapshot: { aliases: { ...snapshot.aliases }, latest: snapshot.latest } });
    // Keep only what a read can still see: the newest entry older than the delay, and later ones.
    const horizon = at - this.delayMs;
    while (entries.length > 1 && (entries[1]?.at ?? Number.POSITIVE_INFINITY) <= horizon) {
      entries.shift();
    }
    this.history.set(secretName, entries);
  }

  /** What a read at `now` sees; undefined when the secret is too new to be visible through pointers. */
  lookup(secretName: string, now: number): PointerSnapshot | undefined {
    const horizon = now - this.delayMs;
    let seen: PointerSnapshot | undefined;
    for (const entry of this.history.get(secretName) ?? []) {
      if (entry.at > horizon) break;
      seen = entry.snapshot;
    }
    return seen;
  }

  forget(secretName: string): void {
    this.history.delete(secretName);
  }
}
