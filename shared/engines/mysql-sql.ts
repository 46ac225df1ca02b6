import { createHash } from 'node:crypto';
import mysql from 'mysql2';
import { z } from 'zod';
import { PermanentError } from '../errors';
import { validateIdentifier } from './identifiers';

/**
 * The SQL the MySQL/MariaDB engine sends, built apart from its execution: the MySQL 8 statements
 * cannot run on this project's test machines (no MySQL 8 server), so unit tests read them here.
 * Values and account names go through mysql2's client-side escaping (escape, format); grantees
 * matched in SHOW GRANTS are backticked here. The connection never enables multiple statements.
 */
export const MYSQL_DIALECTS = ['mysql', 'mariadb'] as const;
export type MysqlDialect = (typeof MYSQL_DIALECTS)[number];

export const MAX_USERNAME_LENGTH: Record<MysqlDialect, number> = { mysql: 32, mariadb: 80 };
export const MAX_DATABASE_LENGTH = 64;

/** An account is a user at a host pattern (`'app'@'%'`). */
export interface Account {
  user: string;
  host: string;
}

// Host patterns as mysql.user stores them: names, IPv4/IPv6, `%`/`_` wildcards, netmasks.
const hostSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9_.%:/-]+$/);

export function validateUsername(value: unknown, dialect: MysqlDialect): string {
  return validateIdentifier(value, 'username', MAX_USERNAME_LENGTH[dialect]);
}

export function validateHost(value: unknown): string {
  const parsed = hostSchema.safeParse(value);
  if (!parsed.success) throw new PermanentError('unexpected account host pattern');
  return parsed.data;
}

export function accountSql(account: Account, dialect: MysqlDialect): string {
  return mysql.format('?@?', [validateUsername(account.user, dialect), validateHost(account.host)]);
}

/** The hash mysql_native_password stores: `*` + hex(SHA1(SHA1(password))), upper case. */
export function nativePasswordHash(password: string): string {
  const inner = createHash('sha1').update(password, 'utf8').digest();
  return `*${createHash('sha1').update(inner).digest('hex').toUpperCase()}`;
}

export function setPasswordSql(dialect: MysqlDialect, account: Account, password: string): string {
  return `ALTER USER ${accountSql(account, dialect)} IDENTIFIED BY ${mysql.escape(password)}`;
}

/**
 * A login changing its own password, without any privilege: MySQL's documented `USER()` form;
 * MariaDB requires CREATE USER for ALTER USER even on oneself, but not for SET PASSWORD.
 */
export function setOwnPasswordSql(dialect: MysqlDialect, password: string): string {
  return dialect === 'mysql'
    ? `ALTER USER USER() IDENTIFIED BY ${mysql.escape(password)}`
    : `SET PASSWORD = PASSWORD(${mysql.escape(password)})`;
}

// MariaDB: one authentication alternative per valid password. The hashes are computed here, so
// the clear passwords never travel in the statement.
const nativeAlternatives = (passwords: string[]) =>
  passwords
    .map((p) => `mysql_native_password USING ${mysql.escape(nativePasswordHash(p))}`)
    .join(' OR ');

/**
 * Make `password` valid while `retained` stays valid.
 * MySQL 8: first make `retained` the primary (a secondary already present is left alone), then
 * `password` the primary with RETAIN CURRENT PASSWORD: the pair is {password, retained} whatever
 * the state before, so a redelivered request cannot push `retained` out.
 * MariaDB 10.4+ (no RETAIN): two mysql_native_password alternatives.
 */
export function addPasswordSql(
  dialect: MysqlDialect,
  account: Account,
  password: string,
  retained: string,
): string[] {
  const who = accountSql(account, dialect);
  if (dialect === 'mysql') {
    return [
      `ALTER USER ${who} IDENTIFIED BY ${mysql.escape(retained)}`,
      `ALTER USER ${who} IDENTIFIED BY ${mysql.escape(password)} RETAIN CURRENT PASSWORD`,
    ];
  }
  return [`ALTER USER ${who} IDENTIFIED VIA ${nativeAlternatives([password, retained])}`];
}

/**
 * Leave only `keep`. MySQL 8: `keep` may be the secondary (rollback after a failed test), so it is
 * made the primary, retaining the other, before DISCARD OLD PASSWORD; valid logins never drop to
 * zero between the two statements. MariaDB: one alternative.
 */
export function discardOtherPasswordsSql(
  dialect: MysqlDialect,
  account: Account,
  keep: string,
): string[] {
  const who = accountSql(account, dialect);
  if (dialect === 'mysql') {
    return [
      `ALTER USER ${who} IDENTIFIED BY ${mysql.escape(keep)} RETAIN CURRENT PASSWORD`,
      `ALTER USER ${who} DISCARD OLD PASSWORD`,
    ];
  }
  return [`ALTER USER ${who} IDENTIFIED VIA ${nativeAlternatives([keep])}`];
}

export const accountLockSql = (dialect: MysqlDialect, account: Account, locked: boolean) =>
  `ALTER USER ${accountSql(account, dialect)} ACCOUNT ${locked ? 'LOCK' : 'UNLOCK'}`;

/** mysql.user's ssl_type: '' none, ANY = REQUIRE SSL, X509, SPECIFIED (issuer/subject/cipher). */
export function requireClause(sslType: string): string {
  switch (sslType) {
    case '':
      return '';
    case 'ANY':
      return ' REQUIRE SSL';
    case 'X509':
      return ' REQUIRE X509';
    default:
      throw new PermanentError(
        'template login requires a specific certificate (REQUIRE ISSUER/SUBJECT/CIPHER): create the second login by hand',
      );
  }
}

export const createUserSql = (
  dialect: MysqlDialect,
  account: Account,
  password: string,
  sslType: string,
) =>
  `CREATE USER ${accountSql(account, dialect)} IDENTIFIED BY ${mysql.escape(password)}${requireClause(sslType)}`;

export const dropUserSql = (dialect: MysqlDialect, account: Account) =>
  `DROP USER IF EXISTS ${accountSql(account, dialect)}`;

// escapeId would split `10.0.%` into `10`.`0`.`%`: a host is one name.
const backtick = (name: string) => `\`${name.replaceAll('`', '``')}\``;

const REWRITE_KEYWORDS = [
  { prefix: 'GRANT ', keyword: ' TO ' },
  { prefix: 'REVOKE ', keyword: ' FROM ' },
  { prefix: 'SET DEFAULT ROLE ', keyword: ' FOR ' },
] as const;

/**
 * One line of `SHOW GRANTS FOR template`, rewritten for `target`: the grantee is replaced and
 * whatever followed it is dropped (MariaDB appends `IDENTIFIED BY PASSWORD '<hash>'`, a
 * password-equivalent that must not be copied), except WITH GRANT/ADMIN OPTION. Servers print
 * grantees with backticks (MySQL 8, MariaDB 10.4+) or quotes (older MariaDB); both are matched.
 */
export function rewriteGrant(
  line: string,
  template: Account,
  target: Account,
  dialect: MysqlDialect,
): string {
  const rule = REWRITE_KEYWORDS.find((r) => line.startsWith(r.prefix));
  const forms = [
    `${backtick(template.user)}@${backtick(template.host)}`,
    `${mysql.escape(template.user)}@${mysql.escape(template.host)}`,
  ].map((grantee) => `${rule?.keyword ?? ''}${grantee}`);
  const found = rule
    ? forms
        .map((needle) => ({ needle, at: line.lastIndexOf(needle) }))
        .filter((f) => f.at > 0)
        .sort((a, b) => b.at - a.at)[0]
    : undefined;
  if (!rule || !found) {
    throw new PermanentError('unexpected line in SHOW GRANTS output', {
      context: { start: line.slice(0, 24) },
    });
  }
  const tail = line.slice(found.at + found.needle.length);
  const option = /\bWITH GRANT OPTION\b/i.test(tail)
    ? ' WITH GRANT OPTION'
    : /\bWITH ADMIN OPTION\b/i.test(tail)
      ? ' WITH ADMIN OPTION'
      : '';
  return `${line.slice(0, found.at)}${rule.keyword}${accountSql(target, dialect)}${option}`;
}

/** MySQL 8 keeps default roles out of SHOW GRANTS, in mysql.default_roles. */
export function setDefaultRolesSql(
  dialect: MysqlDialect,
  roles: Account[],
  target: Account,
): string {
  const list = roles.map((r) => mysql.format('?@?', [r.user, r.host])).join(', ');
  return `SET DEFAULT ROLE ${list} TO ${accountSql(target, dialect)}`;
}

export const USER_HOSTS_SQL =
  'SELECT Host AS host, ssl_type AS sslType FROM mysql.user WHERE User = ?';
export const SHOW_GRANTS_SQL = 'SHOW GRANTS FOR ?@?';
export const DEFAULT_ROLES_SQL =
  'SELECT DEFAULT_ROLE_USER AS user, DEFAULT_ROLE_HOST AS host FROM mysql.default_roles WHERE USER = ? AND HOST = ?';
export const CURRENT_ACCOUNT_SQL = 'SELECT CURRENT_USER() AS account';
export const COUNT_SESSIONS_SQL =
  'SELECT COUNT(*) AS count FROM information_schema.PROCESSLIST WHERE USER = ?';
/** The other sessions of a login (KILL needs one statement per connection id). */
export const SESSION_IDS_SQL =
  'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()';

/** `KILL CONNECTION n` for a processlist id; KILL takes no placeholder, so the id is checked. */
export function killConnectionSql(id: number): string {
  if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`not a connection id: ${id}`);
  return `KILL CONNECTION ${id}`;
}
