/**
 * The last condition reported per secret, so that a condition that persists (a failed rotation
 * the retire tick sees every few minutes) is reported once per secret and change, not per tick.
 *
 * Kept in the function instance, not on the Secret: remembering on the Secret would cost an
 * UpdateSecret per change and race the rotator's compare-and-swap writes, while a lost memory only
 * costs one repeated line after a cold start (Cloud Functions keeps a warm instance between
 * ticks; a new instance reports each standing condition once more). Later ticks log the same
 * condition at DEBUG.
 */
export class ConditionMemory {
  private readonly last = new Map<string, string>();

  /**
   * Record `condition` (undefined: none) for `key`; true when it differs from the last one
   * recorded, i.e. when it is worth reporting. A cleared condition is forgotten, so its return
   * is reported again.
   */
  changed(key: string, condition: string | undefined): boolean {
    const before = this.last.get(key);
    if (condition === undefined) {
      this.last.delete(key);
      return false;
    }
    this.last.set(key, condition);
    return before !== condition;
  }
}
