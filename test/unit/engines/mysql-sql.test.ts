import {
  AUTH_FACTS_SQL,
  accountLockSql,
  addPasswordSql,
  createUserSql,
  discardOtherPasswordsSql,
  dropUserSql,
  dualPasswordBlocker,
  grantFacts,
  grantGap,
  passwordPolicyDescription,
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
  it('keeps two passwords as two alternatives given with PASSWORD(), new first, so a validation plugin can check them', () => {
    expect(addPasswordSql('mariadb', app, 'new-pw', "o'ld")).toEqual([
      "ALTER USER 'app'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('new-pw')" +
        " OR mysql_native_password USING PASSWORD('o\\'ld')",
    ]);
  });

  it('discards to one alternative', () => {
    expect(discardOtherPasswordsSql('mariadb', app, 'keep-pw')).toEqual([
      "ALTER USER 'app'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('keep-pw')",
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

describe('dual-password blockers (decided before any change, the same at check and at set)', () => {
  const mysqlRow = (over: Record<string, unknown> = {}) => ({
    plugin: 'caching_sha2_password',
    history: null,
    reuseDays: null,
    globalHistory: 0,
    globalReuseDays: 0,
    ...over,
  });

  it('reads the MySQL 8 facts in one statement with bind parameters', () => {
    expect(AUTH_FACTS_SQL.mysql).toBe(
      'SELECT plugin, Password_reuse_history AS history, Password_reuse_time AS reuseDays, ' +
        '@@global.password_history AS globalHistory, @@global.password_reuse_interval AS globalReuseDays ' +
        'FROM mysql.user WHERE User = ? AND Host = ?',
    );
  });

  it.each([
    ['no policy', mysqlRow(), undefined],
    ['native password', mysqlRow({ plugin: 'mysql_native_password' }), undefined],
    [
      'account history 0 overrides a global 5',
      mysqlRow({ history: 0, globalHistory: 5 }),
      undefined,
    ],
    [
      'global password_history',
      mysqlRow({ globalHistory: 3 }),
      /password history 3, reuse interval 0 days/,
    ],
    ['global password_reuse_interval', mysqlRow({ globalReuseDays: 30 }), /reuse interval 30 days/],
    ['account PASSWORD HISTORY', mysqlRow({ history: 2 }), /password history 2/],
    ['account PASSWORD REUSE INTERVAL', mysqlRow({ reuseDays: '7' }), /reuse interval 7 days/],
    [
      'an auth plugin the driver lacks',
      mysqlRow({ plugin: 'authentication_ldap_sasl' }),
      /authentication_ldap_sasl/,
    ],
    ['a missing account', undefined, /does not exist/],
  ])('MySQL 8: %s', (_what, row, expected) => {
    const reason = dualPasswordBlocker('mysql', row);
    if (expected === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(expected);
  });

  it.each([
    [{ plugin: 'mysql_native_password', alternatives: null, validation: null }, undefined],
    [
      {
        plugin: 'mysql_native_password',
        alternatives: '["mysql_native_password"]',
        validation: 'simple_password_check',
      },
      undefined,
    ],
    [
      { plugin: 'ed25519', alternatives: null, validation: null },
      /ed25519, which the rotator cannot log in with/,
    ],
    [{ plugin: 'mysql_native_password', alternatives: '["ed25519"]', validation: null }, /ed25519/],
    [{ plugin: 'unix_socket', alternatives: null, validation: null }, /unix_socket/],
    [
      { plugin: 'mysql_native_password', alternatives: ['unix_socket'], validation: null },
      /authenticates with unix_socket/,
    ],
    [
      {
        plugin: 'mysql_native_password',
        alternatives: null,
        validation: 'password_reuse_check,simple_password_check',
      },
      /password_reuse_check/,
    ],
  ])('MariaDB: %j', (row, expected) => {
    const reason = dualPasswordBlocker('mariadb', row);
    if (expected === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(expected);
  });

  it('names the password policy in words', () => {
    expect(passwordPolicyDescription({ validation: 'simple_password_check', strict: 1 })).toBe(
      'password-validation plugins simple_password_check, strict_password_validation=ON',
    );
    expect(passwordPolicyDescription({ validation: null })).toBe(
      'no password-validation plugin is active',
    );
  });
});

describe('grant parity from SHOW GRANTS', () => {
  const to = ' TO `app_clone`@`%`';
  it('reduces lines to object and privileges', () => {
    expect(
      grantFacts(`GRANT SELECT (a, b), INSERT ON \`db\`.\`t\`${to} WITH GRANT OPTION`),
    ).toEqual({
      target: 'ON `db`.`t`',
      privileges: ['SELECT (a, b)', 'INSERT', 'GRANT OPTION'],
    });
    expect(grantFacts(`GRANT \`reader\`${to}`)).toEqual({
      target: 'ROLE `reader`',
      privileges: ['MEMBER'],
    });
    expect(grantFacts('SET DEFAULT ROLE `reader` FOR `app_clone`@`%`')).toEqual({
      target: 'DEFAULT ROLE',
      privileges: ['`reader`'],
    });
  });

  it('finds the first missing privilege, counting database and global grants as covering', () => {
    const ref = [
      `GRANT USAGE ON *.*${to}`,
      `GRANT SELECT, INSERT ON \`db\`.\`orders\`${to}`,
      `GRANT EXECUTE ON FUNCTION \`db\`.\`f\`${to}`,
      `GRANT \`reader\`${to}`,
    ];
    expect(grantGap(ref, ref)).toBeUndefined();
    expect(
      grantGap(ref, [`GRANT ALL PRIVILEGES ON \`db\`.*${to}`, `GRANT \`reader\`${to}`]),
    ).toBeUndefined();
    expect(grantGap(ref, [`GRANT SELECT ON \`db\`.*${to}`, `GRANT \`reader\`${to}`])).toBe(
      'INSERT ON `db`.`orders`',
    );
    expect(
      grantGap(ref, [`GRANT SELECT, INSERT ON \`db\`.\`orders\`${to}`, `GRANT \`reader\`${to}`]),
    ).toBe('EXECUTE ON FUNCTION `db`.`f`');
    expect(grantGap(ref, [`GRANT ALL PRIVILEGES ON *.*${to}`])).toBe('MEMBER ROLE `reader`');
    expect(
      grantGap(
        [`GRANT SELECT ON *.*${to} WITH GRANT OPTION`],
        [`GRANT ALL PRIVILEGES ON *.*${to}`],
      ),
    ).toBe('GRANT OPTION ON *.*');
  });
});
