import { invalidArgument } from './errors';

/** List pagination: the page token is the offset of the next item, opaque to clients. */
export function page<T>(
  items: readonly T[],
  pageSize: number | null | undefined,
  pageToken: string | null | undefined,
): { items: T[]; nextPageToken: string } {
  const start = pageToken ? Number(pageToken) : 0;
  if (!Number.isInteger(start) || start < 0) throw invalidArgument('Invalid page token');
  const size = pageSize && pageSize > 0 ? pageSize : items.length;
  const end = start + size;
  return { items: items.slice(start, end), nextPageToken: end < items.length ? String(end) : '' };
}
