import { invalidArgument } from './errors';

/**
 * List paging: `page_size` (0 = the server's choice; at most 25000, as the API documents) and an
 * opaque `page_token` that remembers the last item served, so items added or removed between
 * pages neither repeat nor vanish.
 */
const MAX_PAGE_SIZE = 25_000;

export interface Page<T> {
  items: T[];
  nextPageToken: string;
  totalSize: number;
}

export function paginate<T>(
  items: T[],
  keyOf: (item: T) => string,
  pageSize: number | undefined,
  pageToken: string | undefined,
): Page<T> {
  const size = pageSize ?? 0;
  if (!Number.isInteger(size) || size < 0) {
    throw invalidArgument('page_size must be a non-negative number.');
  }
  const limit = size === 0 ? MAX_PAGE_SIZE : Math.min(size, MAX_PAGE_SIZE);
  let start = 0;
  if (pageToken) {
    const token = decodeToken(pageToken);
    // Items are in list order; continue after the last one served (or where it would have been).
    const index = items.findIndex((item) => keyOf(item) === token.last);
    start = index >= 0 ? index + 1 : Math.min(token.offset, items.length);
  }
  const page = items.slice(start, start + limit);
  const last = page[page.length - 1];
  const more = start + limit < items.length && last !== undefined;
  return {
    items: page,
    nextPageToken: more ? encodeToken({ last: keyOf(last), offset: start + limit }) : '',
    totalSize: items.length,
  };
}

interface Token {
  last: string;
  offset: number;
}

const encodeToken = (token: Token) => Buffer.from(JSON.stringify(token)).toString('base64url');

function decodeToken(value: string): Token {
  try {
    const token = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<Token>;
    if (typeof token.last === 'string' && typeof token.offset === 'number') {
      return { last: token.last, offset: token.offset };
    }
  } catch {
    // fall through: a token we did not make
  }
  throw invalidArgument(`Invalid page token [${value}].`);
}
