/**
 * Run `fn` over `items` with at most `limit` in flight: the database connection cap of one
 * function instance. (p-limit, the usual library, is ESM-only from v4 and our build is CommonJS;
 * this is the whole of what we need from it.)
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
