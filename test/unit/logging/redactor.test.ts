import { errorFromResponse } from '../../../shared/databricks/response-error';
import { REDACTED, Redactor } from '../../../shared/logging/redactor';

const PASSWORD = 'Zq7vK2mP9xW4rT8nB3cL6hJ1';

describe('Redactor', () => {
  it('scrubs a registered value wherever it appears, and its JSON-escaped form', () => {
    const r = new Redactor();
    r.add(PASSWORD);
    r.add('with"quote-and\\slash');
    expect(r.scrub(`a ${PASSWORD} b ${PASSWORD}`)).toBe(`a ${REDACTED} b ${REDACTED}`);
    expect(r.scrub(JSON.stringify({ m: 'with"quote-and\\slash' }))).toBe(`{"m":"${REDACTED}"}`);
  });

  it.each([
    ['cut at the end of a text', `invalid value '${PASSWORD.slice(0, 14)}`],
    ['truncated by the server', `invalid value '${PASSWORD.slice(0, 9)}...' for key`],
    ['as short as 6 characters', `x ${PASSWORD.slice(0, 6)} y`],
  ])('scrubs a long prefix of a registered value: %s', (_case, text) => {
    const r = new Redactor();
    r.add(PASSWORD);
    const out = r.scrub(text);
    expect(out).toContain(REDACTED);
    expect(out).not.toContain(PASSWORD.slice(0, 6));
  });

  it('leaves shorter fragments and unrelated text alone', () => {
    const r = new Redactor();
    r.add(PASSWORD);
    expect(r.scrub(`${PASSWORD.slice(0, 5)} and Zq7vK2 is not`)).toBe(
      `${PASSWORD.slice(0, 5)} and ${REDACTED} is not`,
    );
    expect(r.scrub('nothing secret here')).toBe('nothing secret here');
  });

  it('scrubs a whole JSON payload, but not the structure its start shares with honest lines', () => {
    const r = new Redactor();
    const payload = JSON.stringify({ host: '10.20.0.5', port: 5432, password: PASSWORD });
    r.add(payload);
    expect(r.scrub(`got ${payload}`)).toBe(`got ${REDACTED}`);
    expect(r.scrub('{"host":"10.20.0.6"}')).toBe('{"host":"10.20.0.6"}');
  });
});

describe('Databricks error text', () => {
  it('is scrubbed before it is cut, so no prefix of a password survives the cut', async () => {
    // Prepare: Databricks echoes the password at position 290, across the 300-character cut.
    const r = new Redactor();
    r.add(PASSWORD);
    const message = `${'x'.repeat(290)}${PASSWORD} rejected`;
    const response = new Response(
      JSON.stringify({ error_code: 'INVALID_PARAMETER_VALUE', message }),
      { status: 400 },
    );
    // Act
    const err = await errorFromResponse('POST /api/2.0/secrets/put', response, r, Date.now());
    // Assess
    expect(err.message).not.toContain(PASSWORD.slice(0, 6));
    expect(err.message).toContain(REDACTED.slice(0, 10));
    expect(err.message.length).toBeLessThan(400);
  });
});
