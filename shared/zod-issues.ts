import type { z } from 'zod';

/**
 * A zod error as one readable line: `path: message` per issue, never the offending value (zod's
 * messages name expectations, not inputs), so it is safe for logs and errors at any boundary.
 */
export function formatIssues(error: z.ZodError, limit = 5): string {
  return error.issues
    .slice(0, limit)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
