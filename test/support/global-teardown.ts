interface Stoppable {
  stop(): Promise<void>;
}

export default async function globalTeardown(): Promise<void> {
  const stack = (globalThis as Record<string, unknown>).__gsmRotatorStack as
    | { databases: Stoppable; pubsub: Stoppable }
    | undefined;
  if (!stack) return;
  (globalThis as Record<string, unknown>).__gsmRotatorStack = undefined;
  await Promise.allSettled([stack.databases.stop(), stack.pubsub.stop()]);
}
