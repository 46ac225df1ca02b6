import { PermanentError } from '../errors';

/**
 * The rule for `rotator.test-query`: one read statement, refused otherwise at config validation.
 * This is the first fence; the second is the server: every engine runs the query in a session the
 * server itself keeps read-only (see `runTestQuery` in each engine), because MySQL/MariaDB commit
 * DDL and account statements implicitly and would escape a merely read-only transaction.
 *
 * Accepted: a statement starting with SELECT, WITH or VALUES, optionally one trailing `;`, with no
 * other `;`, no comments (MySQL runs `/*! … *\/` as code) and none of the words that write, lock,
 * export or change a session (INSERT … INTO OUTFILE, FOR UPDATE, SET …) outside quoted text.
 */
export const MAX_TEST_QUERY_LENGTH = 1000;

const READ_START = /^(SELECT|WITH|VALUES)\b/i;

// Whole words outside quotes and identifiers in quotes. `INTO` covers SELECT … INTO OUTFILE /
// DUMPFILE / @var; `FOR UPDATE`/`FOR SHARE`/`LOCK IN SHARE MODE` take locks; the rest write.
const FORBIDDEN_WORDS = [
  'ALTER',
  'ANALYZE',
  'CALL',
  'COPY',
  'CREATE',
  'DELETE',
  'DO',
  'DROP',
  'EXECUTE',
  'GRANT',
  'HANDLER',
  'INSERT',
  'INTO',
  'LOAD',
  'LOCK',
  'MERGE',
  'RENAME',
  'REPLACE',
  'REVOKE',
  'SET',
  'SHARE',
  'TRUNCATE',
  'UPDATE',
  'UPSERT',
];
const FORBIDDEN = new RegExp(`\\b(${FORBIDDEN_WORDS.join('|')})\\b`, 'i');

/** The text with quoted literals and quoted identifiers blanked, or a problem. */
function unquoted(text: string): { code: string } | { problem: string } {
  let code = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === "'" || ch === '"' || ch === '`') {
      // Quotes end at the same quote; a doubled quote or a backslash escape stays inside.
      let j = i + 1;
      for (;;) {
        if (j >= text.length) return { problem: 'an unterminated quote' };
        if (text[j] === '\\' && ch === "'") {
          j += 2;
          continue;
        }
        if (text[j] === ch) {
          if (text[j + 1] === ch) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      code += ' ';
      i = j + 1;
      continue;
    }
    if (ch === '$' && /^\$[A-Za-z_0-9]*\$/.test(text.slice(i))) {
      return { problem: 'dollar quoting' };
    }
    code += ch;
    i++;
  }
  return { code };
}

/** Why `text` is not a single read statement, or undefined when it is. Never echoes the text. */
export function testQueryProblem(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed.length === 0) return 'it is empty';
  if (trimmed.length > MAX_TEST_QUERY_LENGTH) {
    return `it is longer than ${MAX_TEST_QUERY_LENGTH} characters`;
  }
  if (!READ_START.test(trimmed)) return 'it must start with SELECT, WITH or VALUES';
  const scanned = unquoted(trimmed);
  if ('problem' in scanned) return `it contains ${scanned.problem}`;
  const code = scanned.code.replace(/;\s*$/, '');
  if (code.includes(';')) return 'it must be a single statement';
  if (/--|\/\*|#/.test(code)) return 'it must not contain comments';
  const word = FORBIDDEN.exec(code)?.[1];
  if (word) return `it must only read (found ${word.toUpperCase()})`;
  return undefined;
}

/**
 * The engines' last check before sending a configured query: the same rule as the config.
 * Returns the query without a trailing `;` (the extended protocol and prepared statements refuse
 * it on some servers).
 */
export function validateTestQuery(value: unknown): string {
  const problem = typeof value === 'string' ? testQueryProblem(value) : 'it is not text';
  if (problem !== undefined) {
    throw new PermanentError(`invalid test query: ${problem}`, {
      context: { type: typeof value },
    });
  }
  return (value as string).trim().replace(/;\s*$/, '');
}
