/**
 * What the local stack has started, in order, and how to stop each piece: stopped in reverse, so
 * a piece never outlives what it depends on. Also every TCP port taken (stop() must free them).
 */
export class Teardown {
  private readonly steps: { name: string; run: () => Promise<void> }[] = [];
  readonly ports: number[] = [];

  add(name: string, run: () => Promise<void>): void {
    this.steps.push({ name, run });
  }

  /** Stops everything started so far (once); one error naming every piece that failed to stop. */
  async stopAll(): Promise<void> {
    const errors: string[] = [];
    for (const s of this.steps.splice(0).reverse()) {
      await s.run().catch((err: unknown) => errors.push(`${s.name}: ${(err as Error).message}`));
    }
    if (errors.length > 0) {
      throw new Error(`local stack did not stop cleanly: ${errors.join('; ')}`);
    }
  }
}
