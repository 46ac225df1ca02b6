import { runNowToken } from '../../../shared/consumers/idempotency-token';
import { payloadField } from '../../../shared/consumers/payload-fields';

describe('runNowToken', () => {
  it('is stable per rotation and job, distinct otherwise, and at most 64 characters', () => {
    const a = runNowToken('rot-2026-11-02T10:00:00Z-orders-db-0001', 123456789012);

    expect(runNowToken('rot-2026-11-02T10:00:00Z-orders-db-0001', 123456789012)).toBe(a);
    expect(runNowToken('rot-2026-11-02T10:00:00Z-orders-db-0002', 123456789012)).not.toBe(a);
    expect(runNowToken('rot-2026-11-02T10:00:00Z-orders-db-0001', 123456789013)).not.toBe(a);
    expect(runNowToken('r'.repeat(500), 1).length).toBeLessThanOrEqual(64);
  });
});

describe('payloadField', () => {
  const payload = JSON.stringify({ username: 'app_b', password: 'pw-Very-Secret-1', port: 5432 });

  it('reads string and number fields', () => {
    expect(payloadField(payload, 'password')).toBe('pw-Very-Secret-1');
    expect(payloadField(payload, 'port')).toBe('5432');
  });

  it.each([
    ['not JSON', 'pw-Very-Secret-1', 'the secret payload is not JSON'],
    ['not an object', '"pw-Very-Secret-1"', 'the secret payload is not a JSON object'],
    ['missing the field', JSON.stringify({ pass: 'pw-Very-Secret-1' }), 'no string field password'],
  ])('fails on a payload %s, without quoting it', (_name, text, message) => {
    let caught: unknown;
    try {
      payloadField(text, 'password');
    } catch (err) {
      caught = err;
    }
    expect((caught as Error).message).toContain(message);
    expect((caught as Error).message).not.toContain('pw-Very-Secret-1');
  });
});
