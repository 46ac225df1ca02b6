import { isConcurrencyConflict } from '../../../shared/engines/driver-errors';
import { killConnectionSql, SESSION_IDS_SQL } from '../../../shared/engines/mysql-sql';

describe('concurrency conflicts are transient on every engine', () => {
  it.each([
    ['PostgreSQL serialization failure', { code: '40001', message: 'could not serialize' }],
    ['PostgreSQL deadlock', { code: '40P01', message: 'deadlock detected' }],
    ['PostgreSQL lock timeout', { code: '55P03', message: 'could not obtain lock' }],
    ['PostgreSQL ALTER ROLE race', { code: 'XX000', message: 'tuple concurrently updated' }],
    ['PostgreSQL catalog delete race', { code: 'XX000', message: 'tuple concurrently deleted' }],
    ['MySQL/MariaDB lock wait timeout', { errno: 1205, message: 'Lock wait timeout exceeded' }],
    ['MySQL/MariaDB deadlock', { errno: 1213, message: 'Deadlock found' }],
    ['MySQL/MariaDB record changed', { errno: 1020, message: 'Record has changed' }],
    [
      'MySQL 8 NOWAIT',
      { errno: 3572, message: 'Statement aborted because lock(s) could not be acquired' },
    ],
  ])('%s', (_name, facts) => {
    expect(isConcurrencyConflict(facts)).toBe(true);
  });

  it.each([
    ['another internal error', { code: 'XX000', message: 'cache lookup failed' }],
    ['a syntax error', { code: '42601', message: 'syntax error' }],
    ['access denied', { errno: 1045, message: 'Access denied' }],
  ])('not %s', (_name, facts) => {
    expect(isConcurrencyConflict(facts)).toBe(false);
  });
});

describe('ending sessions on MySQL 8 / MariaDB (SQL checked exactly: no MySQL 8 server here)', () => {
  it('lists the other sessions of a login by placeholder', () => {
    expect(SESSION_IDS_SQL).toBe(
      'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()',
    );
  });

  it('kills one connection per statement, by a checked numeric id', () => {
    expect(killConnectionSql(42)).toBe('KILL CONNECTION 42');
    expect(() => killConnectionSql(Number.NaN)).toThrow(/not a connection id/);
    expect(() => killConnectionSql(-1)).toThrow(/not a connection id/);
    expect(() => killConnectionSql(1.5)).toThrow(/not a connection id/);
  });
});
