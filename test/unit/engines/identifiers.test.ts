import { resolveEndpoint } from '../../../shared/engines/endpoint';
import { validateIdentifier, validatePassword } from '../../../shared/engines/identifiers';
import { MAX_USERNAME_LENGTH, validateUsername } from '../../../shared/engines/mysql-sql';
import { PG_MAX_IDENTIFIER_LENGTH, validateRoleName } from '../../../shared/engines/postgres-sql';
import { PermanentError } from '../../../shared/errors';

const HOSTILE = [
  'x"; DROP ROLE postgres; --',
  "x'; DROP USER root; --",
  'x`; DROP DATABASE mysql; --',
  'a;b',
  'a b',
  'tab\tname',
  'new\nline',
  'nul\0byte',
  '',
  '9lives',
  '-dash-first',
  'ü',
  'a.b',
  'pct%',
];

describe('validateIdentifier', () => {
  it.each(['app', 'app_user', 'App-User_2', '_private', 'a'])('accepts %j', (name) => {
    expect(validateIdentifier(name, 'username', 63)).toBe(name);
  });

  it.each(HOSTILE)('rejects %j with a PermanentError that does not echo it', (name) => {
    let caught: unknown;
    try {
      validateIdentifier(name, 'username', 63);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PermanentError);
    const message = (caught as Error).message;
    expect(message).toMatch(/^invalid username/);
    if (name.length > 2) expect(message).not.toContain(name);
  });

  it.each([undefined, null, 42, {}, ['app']])('rejects the non-string %p', (value) => {
    expect(() => validateIdentifier(value, 'database', 63)).toThrow(PermanentError);
  });

  it('enforces each engine length limit exactly', () => {
    const limits = [
      ['postgres', PG_MAX_IDENTIFIER_LENGTH, (v: string) => validateRoleName(v)],
      ['mysql', MAX_USERNAME_LENGTH.mysql, (v: string) => validateUsername(v, 'mysql')],
      ['mariadb', MAX_USERNAME_LENGTH.mariadb, (v: string) => validateUsername(v, 'mariadb')],
    ] as const;
    expect(limits.map(([, max]) => max)).toEqual([63, 32, 80]);
    for (const [, max, validate] of limits) {
      expect(validate('u'.repeat(max))).toHaveLength(max);
      expect(() => validate('u'.repeat(max + 1))).toThrow(PermanentError);
    }
  });
});

describe('validateRoleName (PostgreSQL)', () => {
  it.each(['pg_monitor', 'PG_x', 'public', 'none', 'CURRENT_USER', 'session_user', 'current_role'])(
    'rejects the reserved name %j',
    (name) => {
      expect(() => validateRoleName(name)).toThrow(/reserved PostgreSQL role name/);
    },
  );

  it('accepts names that merely contain a reserved word', () => {
    expect(validateRoleName('public_app')).toBe('public_app');
    expect(validateRoleName('app_pg_1')).toBe('app_pg_1');
  });
});

describe('validatePassword', () => {
  it('accepts any printable password and refuses empty, NUL or oversized ones without echoing', () => {
    expect(validatePassword(`a'b"c\\d;e$$f`)).toBe(`a'b"c\\d;e$$f`);
    for (const bad of ['', 'abc\0def', 'x'.repeat(1025), 12345]) {
      expect(() => validatePassword(bad)).toThrow('invalid password');
    }
    try {
      validatePassword('secret\0value');
    } catch (err) {
      expect((err as Error).message).not.toContain('secret');
    }
  });
});

describe('resolveEndpoint', () => {
  const defaults = { port: 5432, maxDatabaseLength: 63 };

  it('resolves host/port and applies the default port', () => {
    expect(resolveEndpoint({ host: 'db.internal', database: 'app' }, defaults)).toEqual({
      kind: 'tcp',
      host: 'db.internal',
      port: 5432,
      database: 'app',
      ssl: false,
    });
  });

  it('resolves a Cloud SQL instance, including domain-scoped projects', () => {
    for (const instance of ['proj:europe-west1:db', 'example.com:proj:us-central1:db']) {
      expect(resolveEndpoint({ cloudSqlInstance: instance, database: 'app' }, defaults)).toEqual({
        kind: 'cloud-sql',
        instance,
        database: 'app',
      });
    }
  });

  it.each([
    [{ database: 'app' }],
    [{ host: 'h', cloudSqlInstance: 'p:r:i', database: 'app' }],
    [{ host: 'h', port: 0, database: 'app' }],
    [{ host: 'h; rm -rf', database: 'app' }],
    [{ cloudSqlInstance: 'not an instance', database: 'app' }],
    [{ host: 'h', database: 'app"; DROP DATABASE x; --' }],
    [{ host: 'h', database: 'd'.repeat(64) }],
  ])('rejects %j', (endpoint) => {
    expect(() => resolveEndpoint(endpoint as never, defaults)).toThrow(PermanentError);
  });
});
