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

// MariaDB: one authentication alternative per valid password, given in clear with PASSWORD() so
// that password-validation plugins can check it: with `strict_password_validation=ON` (the
// default) a server with such a plugin refuses every password given as a hash (ER_CANNOT_USER).
const nativeAlternatives = (passwords: string[]) =>
  passwords.map((p) => `mysql_native_password USING PASSWORD(${mysql.escape(p)})`).join(' OR ');

/**
 * Make `password` valid while `retained` stays valid.
 * MySQL 8: first make `retained` the primary (a secondary already present is left alone), then
 * `password` the primary with RETAIN CURRENT PASSWORD: the pair is {password, retained} whatever
 * the state before, so a redelivered request cannot push `retained` out. Re-setting `retained`
 * reuses a password: `dualPasswordBlocker` refuses accounts under a reuse policy first.
 * MariaDB 10.4+ (no RETAIN): two mysql_native_password alternatives, both validated by the
 * server's password policy (so `retained` must meet it too).
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

/**
 * What decides whether dual-password can rotate an account, read in one statement per dialect
 * (`AUTH_FACTS_SQL`, bind parameters user and host).
 * - MySQL 8: the account's plugin, its own PASSWORD HISTORY / PASSWORD REUSE INTERVAL (NULL: the
 *   global default) and the global `password_history` / `password_reuse_interval`.
 * - MariaDB: mysql.global_priv's JSON (`plugin`, and `auth_or` for alternatives), and the active
 *   password-validation plugins.
 */
export const AUTH_FACTS_SQL: Record<MysqlDialect, string> = {
  mysql:
    'SELECT plugin, Password_reuse_history AS history, Password_reuse_time AS reuseDays, ' +
    '@@global.password_history AS globalHistory, @@global.password_reuse_interval AS globalReuseDays ' +
    'FROM mysql.user WHERE User = ? AND Host = ?',
  mariadb:
    "SELECT JSON_VALUE(Priv, '$.plugin') AS plugin, JSON_EXTRACT(Priv, '$.auth_or[*].plugin') AS alternatives, " +
    "(SELECT GROUP_CONCAT(PLUGIN_NAME ORDER BY PLUGIN_NAME) FROM information_schema.PLUGINS WHERE PLUGIN_TYPE = 'PASSWORD VALIDATION' AND PLUGIN_STATUS = 'ACTIVE') AS validation, " +
    '@@global.strict_password_validation AS strict ' +
    'FROM mysql.global_priv WHERE User = ? AND Host = ?',
};

// The authentication plugins mysql2 (the rotator's driver) logs in with: a credential it cannot
// test must never become `current`.
const DRIVER_PLUGINS: Record<MysqlDialect, Set<string>> = {
  mysql: new Set(['caching_sha2_password', 'mysql_native_password', 'sha256_password']),
  mariadb: new Set(['mysql_native_password']),
};

const count = (v: unknown): number | undefined =>
  v === null || v === undefined || v === '' ? undefined : Number(v);

/** The plugins named in `AUTH_FACTS_SQL`'s row (MariaDB: the main one and every alternative). */
export function authPlugins(row: Record<string, unknown>): string[] {
  const names = [String(row.plugin ?? '')];
  // A JSON column: mysql2 parses it; a proxy or another driver may hand over the text.
  const alternatives: unknown =
    typeof row.alternatives === 'string' && row.alternatives !== ''
      ? JSON.parse(row.alternatives)
      : row.alternatives;
  if (Array.isArray(alternatives)) names.push(...alternatives.map(String));
  return [...new Set(names.filter((n) => n !== ''))];
}

/**
 * Why dual-password cannot rotate this account, from its `AUTH_FACTS_SQL` row; undefined when it
 * can. Deterministic, so `check` and the first rotation say the same, before anything changes.
 * - An authentication plugin other than those the driver speaks (MariaDB `ed25519`, `unix_socket`,
 *   `pam`, `gssapi`): rewriting the alternatives would either move the account to
 *   mysql_native_password (silently weakening it) or leave a credential the rotator cannot test.
 * - MySQL 8 `password_history` / `password_reuse_interval` in force for the account (its own
 *   setting, else the global one): the pair and its rollback re-set the retained password, which
 *   the server refuses as reuse (ER_CREDENTIALS_CONTRADICT_TO_HISTORY, 3638) half-way.
 * - MariaDB `password_reuse_check` active: same refusal, for the same reason.
 */
export function dualPasswordBlocker(
  dialect: MysqlDialect,
  row: Record<string, unknown> | undefined,
): string | undefined {
  if (!row) return 'the login does not exist';
  const foreign = authPlugins(row).filter((p) => !DRIVER_PLUGINS[dialect].has(p));
  if (foreign.length > 0) {
    return (
      `the account authenticates with ${foreign.join(', ')}, which the rotator cannot log in with ` +
      `(it supports ${[...DRIVER_PLUGINS[dialect]].join(', ')}); keep the account as it is with ` +
      'alternating-users, or move it to mysql_native_password'
    );
  }
  if (dialect === 'mysql') {
    const history = count(row.history) ?? count(row.globalHistory) ?? 0;
    const reuseDays = count(row.reuseDays) ?? count(row.globalReuseDays) ?? 0;
    if (history > 0 || reuseDays > 0) {
      return (
        `a password reuse policy is in force (password history ${history}, reuse interval ` +
        `${reuseDays} days): the retained password must be set again, which the server refuses; ` +
        'set PASSWORD HISTORY 0 PASSWORD REUSE INTERVAL 0 on the account, or use alternating-users'
      );
    }
    return undefined;
  }
  const validation = String(row.validation ?? '').split(',');
  if (validation.includes('password_reuse_check')) {
    return (
      'the password_reuse_check plugin is active: the retained password must be set again, ' +
      'which it refuses as reuse; use alternating-users'
    );
  }
  return undefined;
}

/**
 * The server's password policy in words, for the error of a refused password change: active
 * validation plugins and `strict_password_validation` (MariaDB), from an `AUTH_FACTS_SQL` row.
 */
export function passwordPolicyDescription(row: Record<string, unknown> | undefined): string {
  const plugins = String(row?.validation ?? '')
    .split(',')
    .filter((p) => p !== '');
  if (plugins.length === 0) return 'no password-validation plugin is active';
  const strict =
    row?.strict === undefined
      ? ''
      : `, strict_password_validation=${Number(row.strict) ? 'ON' : 'OFF'}`;
  return `password-validation plugins ${plugins.join(', ')}${strict}`;
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

/** What one line of SHOW GRANTS gives its grantee: privileges on one object, or a role. */
export interface GrantFacts {
  /** `ON <object>` (`*.*`, `` `db`.* ``, `` `db`.`t` ``, `` FUNCTION `db`.`f` ``), `ROLE <name>` or `DEFAULT ROLE`. */
  target: string;
  privileges: string[];
}

/** Split at commas outside parentheses (column lists: `SELECT (a, b), INSERT`). */
function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}

/**
 * One SHOW GRANTS line, already rewritten for one grantee by `rewriteGrant` (so its tail is only
 * `TO <grantee>[ WITH GRANT|ADMIN OPTION]` or `FOR <grantee>`), reduced to what it grants.
 */
export function grantFacts(line: string): GrantFacts {
  if (line.startsWith('SET DEFAULT ROLE ')) {
    const role = line.slice('SET DEFAULT ROLE '.length, line.lastIndexOf(' FOR '));
    return { target: 'DEFAULT ROLE', privileges: [role] };
  }
  const to = line.lastIndexOf(' TO ');
  const option = /WITH (GRANT|ADMIN) OPTION$/.exec(line)?.[0];
  const body = line.slice('GRANT '.length, to);
  const on = body.indexOf(' ON ');
  if (on < 0) {
    return { target: `ROLE ${body}`, privileges: ['MEMBER', ...(option ? ['ADMIN OPTION'] : [])] };
  }
  return {
    target: `ON ${body.slice(on + 4)}`,
    privileges: [...splitTopLevel(body.slice(0, on)), ...(option ? ['GRANT OPTION'] : [])],
  };
}

// `ON `db`.`t`` is covered by grants on `db`.* and *.*; `ON `db`.*` by *.* (routines likewise).
function coveringTargets(target: string): string[] {
  const m = /^ON (?:(FUNCTION|PROCEDURE|PACKAGE|PACKAGE BODY) )?(`(?:[^`]|``)*`|\*)\.(.+)$/.exec(
    target,
  );
  if (!m) return [target];
  const db = m[2] as string;
  return [target, ...(db === '*' ? [] : [`ON ${db}.*`]), 'ON *.*'];
}

/**
 * The first thing `reference` is granted that `candidate` is not, in words (object and privilege
 * names only), or undefined. Both lists are SHOW GRANTS lines rewritten to the same grantee.
 * A privilege held on the database or globally covers the same privilege on a table or routine;
 * ALL PRIVILEGES covers every privilege except GRANT OPTION.
 */
export function grantGap(reference: string[], candidate: string[]): string | undefined {
  const held = new Map<string, Set<string>>();
  for (const line of candidate) {
    const f = grantFacts(line);
    const set = held.get(f.target) ?? new Set<string>();
    for (const p of f.privileges) set.add(p);
    held.set(f.target, set);
  }
  for (const line of reference) {
    const f = grantFacts(line);
    for (const privilege of f.privileges) {
      if (privilege === 'USAGE') continue;
      const covered = coveringTargets(f.target).some((t) => {
        const set = held.get(t);
        return (
          set !== undefined &&
          (set.has(privilege) || (privilege !== 'GRANT OPTION' && set.has('ALL PRIVILEGES')))
        );
      });
      if (!covered) return `${privilege} ${f.target}`;
    }
  }
  return undefined;
}

/** The other sessions of a login (KILL needs one statement per connection id). */
export const SESSION_IDS_SQL =
  'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()';

/** `KILL CONNECTION n` for a processlist id; KILL takes no placeholder, so the id is checked. */
export function killConnectionSql(id: number): string {
  if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`not a connection id: ${id}`);
  return `KILL CONNECTION ${id}`;
}
