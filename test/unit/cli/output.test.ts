import { createOutput, formatElapsed, formatTime, renderTable } from '../../../cli/output';
import { Redactor } from '../../../shared/logging/redactor';

describe('output', () => {
  it('pads columns to their widest cell without trailing blanks', () => {
    expect(
      renderTable(
        [
          { a: 'orders-db', b: 'ok' },
          { a: 'x', b: 'overdue' },
        ],
        [
          { key: 'a', header: 'SECRET' },
          { key: 'b', header: 'STATE' },
        ],
      ),
    ).toEqual(['SECRET     STATE', 'orders-db  ok', 'x          overdue']);
  });

  it.each<[number | undefined, string]>([
    [undefined, '-'],
    [850, '850ms'],
    [4_240, '4.2s'],
    [192_000, '3m12s'],
    [7_500_000, '2h05m'],
  ])('formats %p ms as %s', (ms, text) => {
    expect(formatElapsed(ms)).toBe(text);
  });

  it('prints times in UTC to the second', () => {
    expect(formatTime(Date.UTC(2025, 0, 2, 3, 4, 5, 678))).toBe('2025-01-02T03:04:05Z');
    expect(formatTime(undefined)).toBe('-');
  });

  it('scrubs every registered value from lines, notes, tables and documents', () => {
    // Prepare
    const redactor = new Redactor();
    redactor.add('s3cret-value-123');
    const out: string[] = [];
    const o = createOutput({
      json: false,
      stdout: (t) => out.push(t),
      stderr: (t) => out.push(t),
      redactor,
    });
    // Act
    o.line('line s3cret-value-123');
    o.note('note s3cret-value-123');
    o.table([{ a: 's3cret-value-123' }], [{ key: 'a', header: 'A' }]);
    o.document({ leaked: 's3cret-value-123' });
    // Assess
    expect(out.join('')).not.toContain('s3cret-value-123');
    expect(out.join('').match(/\[REDACTED\]/g)).toHaveLength(4);
  });
});
