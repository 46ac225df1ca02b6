import {
  accountLockSql,
  addPasswordSql,
  createUserSql,
  discardOtherPasswordsSql,
  dropUserSql,
  nativePasswordHash,
  rewriteGrant,
  setDefaultRolesSql,
  setOwnPasswordSql,
  setPasswordSql,
} from '../../../shared/engines/mysql-sql';
import { PermanentError } from '../../../shared/errors';

// MySQL 8 cannot run on this project's machines (Debian ships no mysql-server): the exact
// statements are pinned here. MariaDB's run for real in test/integration/engines.
const app = { user: 'app', host: '%' };
const tricky = `it's "a" \\ pass;word`;

describe('MySQL 8 statements', () => {
  it('sets a password with the value escaped', () => {
    expect(setPasswordSql('mysql', app, tricky)).toBe(
      `ALTER USER 'app'@'%' IDENTIFIED BY 'it\\'s \\"a\\" \\\\ pass;word'`,
    );
  });

  it('changes its own password with USER()', () => {
    expect(setOwnPasswordSql('mysql', 'pw')).toBe("ALTER USER USER() IDENTIFIED BY 'pw'");
  });

  it('adds a password with RETAIN CURRENT PASSWORD, after pinning the retained one as primary', () => {
    expect(addPasswordSql('mysql', app, 'new-pw', 'old-pw')).toEqual([
      "ALTER USER 'app'@'%' IDENTIFIED BY 'old-pw'",
      "ALTER USER 'app'@'%' IDENTIFIED BY 'new-pw' RETAIN CURRENT PASSWORD",
    ]);
  });

  it('discards the other password after making the kept one primary', () => {
    expect(discardOtherPasswordsSql('mysql', app, 'keep-pw')).toEqual([
      "ALTER USER 'app'@'%' IDENTIFIED BY 'keep-pw' RETAIN CURRENT PASSWORD",
      "ALTER USER 'app'@'%' DISCARD OLD PASSWORD",
    ]);
  });

  it('locks and unlocks accounts', () => {
    expect(accountLockSql('mysql', { user: 'app_clone', host: '10.0.0.%' }, true)).toBe(
      "ALTER USER 'app_clone'@'10.0.0.%' ACCOUNT LOCK",
    );
    expect(accountLockSql('mysql', app, false)).toBe("ALTER USER 'app'@'%' ACCOUNT UNLOCK");
  });

  it('sets default roles copied from mysql.default_roles', () => {
    expect(
      setDefaultRolesSql(
        'mysql',
        [
          { user: 'owner', host: '%' },
          { user: "o'dd", host: 'localhost' },
        ],
        { user: 'app_clone', host: '%' },
      ),
    ).toBe("SET DEFAULT ROLE 'owner'@'%', 'o\\'dd'@'localhost' TO 'app_clone'@'%'");
  });

  it('rewrites SHOW GRANTS lines for the clone', () => {
    const clone = { user: 'app_clone', host: '%' };
    const cases: [string, string][] = [
      ['GRANT USAGE ON *.* TO `app`@`%`', "GRANT USAGE ON *.* TO 'app_clone'@'%'"],
      [
        'GRANT SELECT, INSERT ON `shop`.* TO `app`@`%` WITH GRANT OPTION',
        "GRANT SELECT, INSERT ON `shop`.* TO 'app_clone'@'%' WITH GRANT OPTION",
      ],
      ['GRANT `owner`@`%` TO `app`@`%`', "GRANT `owner`@`%` TO 'app_clone'@'%'"],
      [
        'GRANT `owner`@`%` TO `app`@`%` WITH ADMIN OPTION',
        "GRANT `owner`@`%` TO 'app_clone'@'%' WITH ADMIN OPTION",
      ],
      [
        'GRANT APPLICATION_PASSWORD_ADMIN ON *.* TO `app`@`%`',
        "GRANT APPLICATION_PASSWORD_ADMIN ON *.* TO 'app_clone'@'%'",
      ],
      [
        'REVOKE INSERT ON `mysql`.* FROM `app`@`%`',
        "REVOKE INSERT ON `mysql`.* FROM 'app_clone'@'%'",
      ],
      // A database whose name contains the grantee text cannot fool the rewrite.
      [
        'GRANT SELECT ON `x`` TO ``app``@``%```.* TO `app`@`%`',
        "GRANT SELECT ON `x`` TO ``app``@``%```.* TO 'app_clone'@'%'",
      ],
    ];
    for (const [line, expected] of cases)
      expect(rewriteGrant(line, app, clone, 'mysql')).toBe(expected);
  });

  it('copies REQUIRE SSL / X509 and refuses specific certificate requirements', () => {
    expect(createUserSql('mysql', app, 'pw', '')).toBe("CREATE USER 'app'@'%' IDENTIFIED BY 'pw'");
    expect(createUserSql('mysql', app, 'pw', 'ANY')).toBe(
      "CREATE USER 'app'@'%' IDENTIFIED BY 'pw' REQUIRE SSL",
    );
    expect(createUserSql('mysql', app, 'pw', 'X509')).toBe(
      "CREATE USER 'app'@'%' IDENTIFIED BY 'pw' REQUIRE X509",
    );
    expect(() => createUserSql('mysql', app, 'pw', 'SPECIFIED')).toThrow(PermanentError);
    expect(dropUserSql('mysql', app)).toBe("DROP USER IF EXISTS 'app'@'%'");
  });
});

describe('MariaDB statements', () => {
  it('hashes like PASSWORD() (mysql_native_password)', () => {
    // SELECT PASSWORD('password') on MariaDB.
    expect(nativePasswordHash('password')).toBe('*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19');
  });

  it('keeps two passwords as two authentication alternatives, new first, no clear text', () => {
    const [sql, ...rest] = addPasswordSql('mariadb', app, 'new-pw', 'old-pw');
    expect(rest).toEqual([]);
    expect(sql).toBe(
      `ALTER USER 'app'@'%' IDENTIFIED VIA mysql_native_password USING '${nativePasswordHash('new-pw')}'` +
        ` OR mysql_native_password USING '${nativePasswordHash('old-pw')}'`,
    );
    expect(sql).not.toContain('new-pw');
    expect(sql).not.toContain('old-pw');
  });

  it('discards to one alternative', () => {
    expect(discardOtherPasswordsSql('mariadb', app, 'keep-pw')).toEqual([
      `ALTER USER 'app'@'%' IDENTIFIED VIA mysql_native_password USING '${nativePasswordHash('keep-pw')}'`,
    ]);
  });

  it('changes its own password with SET PASSWORD (ALTER USER needs CREATE USER there)', () => {
    expect(setOwnPasswordSql('mariadb', "o'k")).toBe("SET PASSWORD = PASSWORD('o\\'k')");
  });

  it('drops the password hash MariaDB prints in SHOW GRANTS', () => {
    const clone = { user: 'app_clone', host: '%' };
    expect(
      rewriteGrant(
        "GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19'",
        app,
        clone,
        'mariadb',
      ),
    ).toBe("GRANT USAGE ON *.* TO 'app_clone'@'%'");
    expect(
      rewriteGrant(
        "GRANT ALL PRIVILEGES ON `shop`.* TO 'app'@'%' IDENTIFIED VIA mysql_native_password USING '*AB' OR mysql_native_password USING '*CD' WITH GRANT OPTION",
        app,
        clone,
        'mariadb',
      ),
    ).toBe("GRANT ALL PRIVILEGES ON `shop`.* TO 'app_clone'@'%' WITH GRANT OPTION");
    expect(rewriteGrant('SET DEFAULT ROLE `owner` FOR `app`@`%`', app, clone, 'mariadb')).toBe(
      "SET DEFAULT ROLE `owner` FOR 'app_clone'@'%'",
    );
  });

  it('refuses lines it does not understand, or for another grantee', () => {
    const clone = { user: 'app_clone', host: '%' };
    for (const line of [
      'CREATE USER `app`@`%`',
      'GRANT SELECT ON *.* TO `other`@`%`',
      'GRANT SELECT ON *.* TO `app`@`localhost`',
    ]) {
      expect(() => rewriteGrant(line, app, clone, 'mariadb')).toThrow(PermanentError);
    }
  });

  it('validates user names and hosts before building', () => {
    expect(() =>
      setPasswordSql('mariadb', { user: "x'; DROP USER root; --", host: '%' }, 'p'),
    ).toThrow(PermanentError);
    expect(() => setPasswordSql('mariadb', { user: 'x', host: "%' OR '1" }, 'p')).toThrow(
      PermanentError,
    );
    expect(() => setPasswordSql('mysql', { user: 'u'.repeat(33), host: '%' }, 'p')).toThrow(
      PermanentError,
    );
    expect(setPasswordSql('mariadb', { user: 'u'.repeat(80), host: '%' }, 'p')).toContain(
      'u'.repeat(80),
    );
  });
});
