import { RotationConfigSchema } from '../../../shared/config/rotation-config';
import { testQueryProblem, validateTestQuery } from '../../../shared/engines/test-query';
import { PermanentError } from '../../../shared/errors';

const READS = [
  'SELECT 1',
  ' SELECT count(*) FROM orders ; ',
  'select id from "Orders" where note = \'DROP TABLE x; --\'',
  "SELECT * FROM t WHERE name = 'it''s' AND tag = `set`",
  'WITH x AS (SELECT 1 AS n) SELECT n FROM x',
  'VALUES (1)',
  'SELECT character_set_name, offset_value FROM update_log',
];

const REFUSED: Array<[string, RegExp]> = [
  ['DROP TABLE orders', /start with SELECT/],
  ['delete from orders', /start with SELECT/],
  ['CREATE USER x', /start with SELECT/],
  ["ALTER USER app IDENTIFIED BY 'x'", /start with SELECT/],
  ['GRANT ALL ON *.* TO app', /start with SELECT/],
  ['SET PASSWORD = PASSWORD(1)', /start with SELECT/],
  ['SELECT 1; DROP TABLE orders', /single statement/],
  ['SELECT 1;;', /single statement/],
  ['SELECT 1 -- comment', /comments/],
  ['SELECT /*! DROP TABLE t */ 1', /comments/],
  ['SELECT 1 # mysql comment', /comments/],
  ["SELECT * FROM t INTO OUTFILE '/tmp/x'", /found INTO/],
  ['SELECT * FROM t FOR UPDATE', /found UPDATE/],
  ['SELECT * FROM t LOCK IN SHARE MODE', /found LOCK/],
  ['WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d', /found DELETE/],
  ["SELECT 'unterminated", /unterminated quote/],
  ['SELECT $$x$$', /dollar quoting/],
  ['', /empty/],
  ['   ', /empty/],
  [`SELECT ${'1,'.repeat(600)}1`, /longer than 1000/],
];

describe('the test query rule', () => {
  it.each(READS)('accepts the single read statement %j', (q) => {
    expect(testQueryProblem(q)).toBeUndefined();
    expect(validateTestQuery(q)).toBe(q.trim().replace(/;\s*$/, ''));
  });

  it.each(REFUSED)('refuses %j, saying why without echoing it', (q, why) => {
    expect(testQueryProblem(q)).toMatch(why);
    let err: unknown;
    try {
      validateTestQuery(q);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PermanentError);
    if (q.trim().length > 3) expect((err as Error).message).not.toContain(q.trim());
  });

  it('refuses at config validation, naming the annotation and not the query', () => {
    const parsed = RotationConfigSchema.safeParse({
      'rotator.engine': 'mariadb',
      'rotator.strategy': 'single-user',
      'rotator.admin-secret': 'self',
      'rotator.test-query': 'DROP TABLE orders',
    });
    expect(parsed.success).toBe(false);
    const text = JSON.stringify(parsed.error?.issues);
    expect(text).toContain('rotator.test-query');
    expect(text).toContain('not a single read statement');
    expect(text).not.toContain('DROP TABLE orders');
  });
});
