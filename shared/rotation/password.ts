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

/** The character classes a password must contain one of each (where the alphabet keeps any). */
const CLASSES = [LOWER, UPPER, DIGITS, SYMBOLS] as const;

/**
 * A password of `policy.length` characters drawn uniformly from the engine's alphabet with
 * `crypto.randomBytes` (passed in). Rejection sampling removes modulo bias: a byte is used only if
 * it falls below the largest multiple of the alphabet size. A candidate lacking any class the
 * alphabet has (lower-case, upper-case, digit, symbol) is drawn again, so server-side password
 * policies accept it (MySQL validate_password MEDIUM and MariaDB simple_password_check want one of
 * each); redrawing whole candidates keeps the distribution uniform over the accepted set. A class
 * the policy excluded entirely is not required. Every returned password has every required class:
 * after 100 rejected candidates (odds below 1e-100 at length 16) it throws instead.
 */
export function generatePassword(
  engine: EngineName,
  policy: PasswordPolicy,
  randomBytes: RandomBytes,
): string {
  const alphabet = passwordAlphabet(engine, policy);
  if (alphabet.length < 16) throw new Error('password alphabet too small after exclusions');
  const limit = 256 - (256 % alphabet.length);
  const required = CLASSES.map((c) => new Set([...c].filter((x) => alphabet.includes(x)))).filter(
    (c) => c.size > 0,
  );
  for (let attempt = 0; attempt < 100; attempt++) {
    const out: string[] = [];
    while (out.length < policy.length) {
      for (const byte of randomBytes(policy.length * 2)) {
        if (byte < limit) out.push(alphabet[byte % alphabet.length] as string);
        if (out.length === policy.length) break;
      }
    }
    const pw = out.join('');
    if (required.every((c) => out.some((x) => c.has(x)))) return pw;
  }
  throw new Error('could not draw a password with every character class');
}
