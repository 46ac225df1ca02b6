import type { PasswordPolicy } from '../config/rotation-config';
import type { EngineName } from '../engines/engine';

export type RandomBytes = (size: number) => Buffer;

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const SYMBOLS = '!#$%&()*+,-.:;<=>?[]^_{|}~';

/**
 * Characters that break connection strings or shell/SQL tooling around each engine even when the
 * driver quotes correctly (the same exclusions AWS's rotation templates use): `@` and `/` and `:`
 * split URLs, quotes and backslashes break hand-written configs.
 */
const ENGINE_EXCLUDE: Record<EngineName, string> = {
  postgres: ':/@"\'\\',
  mysql: '/@"\'\\',
  mariadb: '/@"\'\\',
};

export function passwordAlphabet(engine: EngineName, policy: PasswordPolicy): string[] {
  const excluded = new Set([...ENGINE_EXCLUDE[engine], ...policy.exclude]);
  return [...LOWER, ...UPPER, ...DIGITS, ...SYMBOLS].filter((c) => !excluded.has(c));
}

/**
 * A password of `policy.length` characters drawn uniformly from the engine's alphabet with
 * `crypto.randomBytes` (passed in). Rejection sampling removes modulo bias: a byte is used only if
 * it falls below the largest multiple of the alphabet size. Candidates lacking a lower-case letter,
 * an upper-case letter or a digit are drawn again, so server-side password policies accept them;
 * redrawing whole candidates keeps the distribution uniform over the accepted set.
 */
export function generatePassword(
  engine: EngineName,
  policy: PasswordPolicy,
  randomBytes: RandomBytes,
): string {
  const alphabet = passwordAlphabet(engine, policy);
  if (alphabet.length < 16) throw new Error('password alphabet too small after exclusions');
  const limit = 256 - (256 % alphabet.length);
  for (let attempt = 0; attempt < 100; attempt++) {
    const out: string[] = [];
    while (out.length < policy.length) {
      for (const byte of randomBytes(policy.length * 2)) {
        if (byte < limit) out.push(alphabet[byte % alphabet.length] as string);
        if (out.length === policy.length) break;
      }
    }
    const pw = out.join('');
    if (/[a-z]/.test(pw) && /[A-Z]/.test(pw) && /[0-9]/.test(pw)) return pw;
  }
  throw new Error('could not draw a password with every character class');
}
