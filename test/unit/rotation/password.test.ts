import { randomBytes } from 'node:crypto';
import { generatePassword, passwordAlphabet } from '../../../shared/rotation/password';

describe('generatePassword', () => {
  it('draws the requested length from the engine alphabet, with every class', () => {
    for (const engine of ['postgres', 'mysql', 'mariadb'] as const) {
      const alphabet = new Set(passwordAlphabet(engine, { length: 32, exclude: '' }));
      for (let i = 0; i < 200; i++) {
        const pw = generatePassword(engine, { length: 32, exclude: '' }, randomBytes);
        expect(pw).toHaveLength(32);
        expect([...pw].every((c) => alphabet.has(c))).toBe(true);
        expect(pw).toMatch(/[a-z]/);
        expect(pw).toMatch(/[A-Z]/);
        expect(pw).toMatch(/[0-9]/);
        expect(pw).toMatch(/[^A-Za-z0-9]/);
      }
    }
  });

  it('guarantees a symbol even when symbols are rare in the draw, and redraws a candidate without one', () => {
    // Prepare: the first candidate has every class but a symbol; the second has all four.
    const policy = { length: 16, exclude: '' };
    const alphabet = passwordAlphabet('mysql', policy);
    const candidates = ['aA0bB1cC2dD3eE4f', 'aA0bB1cC2dD3eE4!'];
    let calls = 0;
    const source = (size: number) =>
      Buffer.from(
        [...(candidates[Math.min(calls++, 1)] as string)]
          .map((c) => alphabet.indexOf(c))
          .concat(Array(size).fill(0))
          .slice(0, size),
      );
    // Act / Assess
    expect(generatePassword('mysql', policy, source)).toBe('aA0bB1cC2dD3eE4!');
  });

  it('requires only the classes the policy leaves: all symbols excluded, none required', () => {
    const exclude = '!#$%&()*+,-.:;<=>?[]^_{|}~';
    const policy = { length: 16, exclude };
    for (let i = 0; i < 50; i++) {
      const pw = generatePassword('postgres', policy, randomBytes);
      expect(pw).toMatch(/^[A-Za-z0-9]{16}$/);
    }
  });

  it('throws rather than return a password missing a class', () => {
    const policy = { length: 16, exclude: '' };
    const alphabet = passwordAlphabet('postgres', policy);
    // Only lower-case letters, forever.
    const source = (size: number) => Buffer.alloc(size, alphabet.indexOf('a'));
    expect(() => generatePassword('postgres', policy, source)).toThrow('every character class');
  });

  it('never uses characters that break connection strings, nor the policy exclusions', () => {
    const pg = passwordAlphabet('postgres', { length: 32, exclude: '#%' });
    for (const c of [':', '/', '@', '"', "'", '\\', '#', '%', ' ']) expect(pg).not.toContain(c);
    const my = passwordAlphabet('mysql', { length: 32, exclude: '' });
    for (const c of ['/', '@', '"', "'", '\\']) expect(my).not.toContain(c);
    expect(my).toContain(':');
  });

  it('rejects biased bytes instead of folding them (uniform draw)', () => {
    // Prepare: bytes at or above 256 - 256 % n would favour the first characters: they are skipped.
    const policy = { length: 16, exclude: '' };
    const alphabet = passwordAlphabet('postgres', policy);
    const limit = 256 - (256 % alphabet.length);
    const wanted = 'aA0bB1cC2dD3eE4!';
    let calls = 0;
    const source = (size: number) => {
      calls++;
      if (calls === 1) return Buffer.alloc(size, 255);
      return Buffer.from(
        [...wanted]
          .map((c) => alphabet.indexOf(c))
          .concat(Array(size).fill(0))
          .slice(0, size),
      );
    };
    // Act
    const pw = generatePassword('postgres', policy, source);
    // Assess: the all-255 buffer contributed nothing.
    expect(255).toBeGreaterThanOrEqual(limit);
    expect(pw).toBe(wanted);
  });

  it('is close to uniform over many draws', () => {
    const policy = { length: 64, exclude: '' };
    const alphabet = passwordAlphabet('mysql', policy);
    const counts = new Map<string, number>();
    for (let i = 0; i < 500; i++) {
      for (const c of generatePassword('mysql', policy, randomBytes))
        counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    const expected = (500 * 64) / alphabet.length;
    for (const c of alphabet) {
      const got = counts.get(c) ?? 0;
      expect(Math.abs(got - expected) / expected).toBeLessThan(0.25);
    }
  });
});
