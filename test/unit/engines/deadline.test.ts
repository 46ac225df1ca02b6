import {
  DeadlinePassedError,
  idleBoundMs,
  mariadbBoundedSql,
  mysqlBoundsSql,
  statementBudgetMs,
} from '../../../shared/engines/deadline';

const at = (left: number) => ({ at: 1_000_000 + left, now: () => 1_000_000 });

describe('statement bounds under a deadline', () => {
  it('gives a statement what is left after the idle gaps, capped at the default', () => {
    expect(statementBudgetMs(at(10_000), 1_000, 2, 30_000, 'x')).toBe(8_000);
    expect(statementBudgetMs(at(600_000), 5_000, 2, 30_000, 'x')).toBe(30_000);
  });

  it('sends nothing once too little is left', () => {
    expect(() => statementBudgetMs(at(2_050), 1_000, 2, 30_000, 'pg: set password')).toThrow(
      DeadlinePassedError,
    );
    expect(() => statementBudgetMs(at(-5), 200, 1, 30_000, 'x')).toThrow(/deadline passed/);
  });

  it('bounds idle gaps to a fraction of what is left, within [min, 5 s]', () => {
    expect(idleBoundMs(at(8_000), 200)).toBe(1_000);
    expect(idleBoundMs(at(600_000), 200)).toBe(5_000);
    expect(idleBoundMs(at(800), 200)).toBe(200);
  });

  it('MariaDB: one statement, bounded for itself (SQL exactly)', () => {
    expect(mariadbBoundedSql('ALTER USER `a`@`%` ACCOUNT LOCK', 2_500)).toBe(
      'SET STATEMENT max_statement_time=2.500, lock_wait_timeout=2, innodb_lock_wait_timeout=2 FOR ALTER USER `a`@`%` ACCOUNT LOCK',
    );
  });

  it('MySQL 8 (not installable here): lock waits set first, in whole seconds (SQL exactly)', () => {
    expect(mysqlBoundsSql(2_500, 'x')).toBe(
      'SET SESSION lock_wait_timeout = 2, innodb_lock_wait_timeout = 2, max_execution_time = 2500',
    );
    expect(() => mysqlBoundsSql(900, 'mysql: lock account')).toThrow(DeadlinePassedError);
  });
});
