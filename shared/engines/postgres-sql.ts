import { escapeIdentifier, escapeLiteral } from 'pg';
import { PermanentError } from '../errors';
import { type IdentifierKind, validateIdentifier } from './identifiers';

/**
 * The SQL the PostgreSQL engine sends, built apart from its execution so that unit tests can read
 * it. Identifiers go through pg's escapeIdentifier and literals through escapeLiteral (utility
 * statements such as ALTER ROLE take no bind parameters: `PASSWORD $1` is a syntax error).
 * Everything else is a constant query with bind parameters.
 */
export const PG_MAX_IDENTIFIER_LENGTH = 63;

// Role names PostgreSQL reserves or treats as keywords in role positions.
const RESERVED_ROLE_NAMES = new Set([
  'public',
  'none',
  'current_user',
  'session_user',
  'current_role',
]);

export function validateRoleName(value: unknown, kind: IdentifierKind = 'username'): string {
  const name = validateIdentifier(value, kind, PG_MAX_IDENTIFIER_LENGTH);
  if (/^pg_/i.test(name) || RESERVED_ROLE_NAMES.has(name.toLowerCase())) {
    throw new PermanentError(`invalid ${kind}: reserved PostgreSQL role name`, {
      context: { kind },
    });
  }
  return name;
}

const role = (name: string) => escapeIdentifier(validateRoleName(name));

/** `secret` is a SCRAM verifier (preferred) or, for non-ASCII passwords, the password itself. */
export const alterRolePasswordSql = (name: string, secret: string) =>
  `ALTER ROLE ${role(name)} WITH PASSWORD ${escapeLiteral(secret)}`;

export const alterRoleLoginSql = (name: string, canLogin: boolean) =>
  `ALTER ROLE ${role(name)} WITH ${canLogin ? 'LOGIN' : 'NOLOGIN'}`;

export interface LoginAttributes {
  inherit: boolean;
  connectionLimit: number;
}

export function createLoginRoleSql(name: string, secret: string, attrs: LoginAttributes): string {
  if (!Number.isInteger(attrs.connectionLimit)) {
    throw new PermanentError('invalid connection limit');
  }
  return (
    `CREATE ROLE ${role(name)} WITH LOGIN ${attrs.inherit ? 'INHERIT' : 'NOINHERIT'} ` +
    `CONNECTION LIMIT ${attrs.connectionLimit} PASSWORD ${escapeLiteral(secret)}`
  );
}

/** `group` comes from the catalog (it may be a predefined `pg_*` role): quoted, not validated. */
export const grantMembershipSql = (group: string, member: string, adminOption: boolean) =>
  `GRANT ${escapeIdentifier(group)} TO ${role(member)}${adminOption ? ' WITH ADMIN OPTION' : ''}`;

// GUC names: letters, digits, `_`, and `.` for extension/custom settings (`app.tenant`).
const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

// Settings whose stored value is a list of separately quoted elements (as pg_dump's
// variable_is_guc_list_quote): they must be re-emitted element by element, not as one literal.
const LIST_QUOTED_SETTINGS = new Set([
  'local_preload_libraries',
  'search_path',
  'session_preload_libraries',
  'shared_preload_libraries',
  'temp_tablespaces',
  'unix_socket_directories',
]);

/** PostgreSQL's SplitGUCList: comma-separated, elements optionally double-quoted ("" escapes "). */
export function splitGucList(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < value.length && /\s/.test(value[i] as string)) i++;
  };
  skipSpace();
  if (i >= value.length) return out;
  for (;;) {
    let element = '';
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= value.length) throw new PermanentError('unterminated quote in a list setting');
        if (value[i] === '"') {
          if (value[i + 1] === '"') {
            element += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        element += value[i];
        i++;
      }
    } else {
      while (i < value.length && value[i] !== ',' && !/\s/.test(value[i] as string)) {
        element += value[i];
        i++;
      }
    }
    out.push(element);
    skipSpace();
    if (i >= value.length) return out;
    if (value[i] !== ',') throw new PermanentError('malformed list setting');
    i++;
    skipSpace();
  }
}

/**
 * `ALTER ROLE … [IN DATABASE …] SET name TO value` from one pg_db_role_setting entry
 * (`name=value`), quoted the way pg_dump's makeAlterConfigCommand quotes it.
 */
export function roleSettingSql(name: string, database: string | null, entry: string): string {
  const eq = entry.indexOf('=');
  const setting = entry.slice(0, eq);
  const value = entry.slice(eq + 1);
  if (eq <= 0 || !SETTING_NAME.test(setting)) {
    throw new PermanentError('unexpected role setting name', {
      context: { length: setting.length },
    });
  }
  // `database` comes from the catalog: quoted, not validated.
  const scope = database === null ? '' : ` IN DATABASE ${escapeIdentifier(database)}`;
  const rendered = LIST_QUOTED_SETTINGS.has(setting.toLowerCase())
    ? splitGucList(value).map(escapeLiteral).join(', ') || "''"
    : escapeLiteral(value);
  return `ALTER ROLE ${role(name)}${scope} SET ${escapeIdentifier(setting)} TO ${rendered}`;
}

export const ROLE_EXISTS_SQL = 'SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1';

export const ROLE_ATTRIBUTES_SQL =
  'SELECT rolinherit, rolconnlimit FROM pg_catalog.pg_roles WHERE rolname = $1';

export const ROLE_MEMBERSHIPS_SQL = `SELECT g.rolname AS "group", m.admin_option AS "adminOption"
  FROM pg_catalog.pg_auth_members m
  JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
  JOIN pg_catalog.pg_roles u ON u.oid = m.member
  WHERE u.rolname = $1
  ORDER BY g.rolname`;

export const ROLE_SETTINGS_SQL = `SELECT d.datname AS "database", s.setconfig AS "entries"
  FROM pg_catalog.pg_db_role_setting s
  JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
  LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
  WHERE r.rolname = $1 AND (s.setdatabase = 0 OR d.datname IS NOT NULL)
  ORDER BY d.datname NULLS FIRST`;

export const COUNT_SESSIONS_SQL =
  'SELECT count(*)::int AS "count" FROM pg_catalog.pg_stat_activity WHERE usename = $1';

/** `$1` is a member (directly or through other roles) of `$2`: granting `$1` to `$2` would loop. */
export const IS_MEMBER_SQL = `SELECT pg_catalog.pg_has_role($1::name, $2::name, 'MEMBER') AS "member"`;

/** `ALTER ROLE … SET role = …`: the clone acts as the template, so what it creates, the template owns. */
export const setRoleSettingSql = (name: string, actsAs: string) =>
  `ALTER ROLE ${role(name)} SET role = ${escapeLiteral(validateRoleName(actsAs))}`;

// Schemas of the system, left out of the parity comparison.
const USER_SCHEMA = `n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'`;

/**
 * Privilege parity: the first privilege `$1` (the reference: the current login) has that `$2`
 * (the candidate: the pending login) lacks, as `{ object, privilege }`, or no row. Effective
 * privileges through the server's own has_*_privilege functions (so PUBLIC, inheritance and
 * ownership count as they do for a real session) on the current database, every user schema,
 * table, view, materialized view, foreign table, sequence and function; ownership rights (ALTER,
 * DROP, GRANT) as `OWNERSHIP` where the reference acts as an object's owner and the candidate
 * does not; and membership in any other role. The two logins themselves are left out of the
 * membership comparison (a clone is a member of the login it was made from).
 */
export const PRIVILEGE_GAP_SQL = `WITH gaps AS (
  SELECT 1 AS o, 'database ' || quote_ident(current_database()) AS object, p AS privilege
    FROM unnest(ARRAY['CONNECT', 'CREATE', 'TEMPORARY']) p
   WHERE has_database_privilege($1::name, current_database(), p)
     AND NOT has_database_privilege($2::name, current_database(), p)
  UNION ALL
  SELECT 2, 'schema ' || quote_ident(n.nspname), p
    FROM pg_catalog.pg_namespace n, unnest(ARRAY['USAGE', 'CREATE']) p
   WHERE ${USER_SCHEMA}
     AND has_schema_privilege($1::name, n.oid, p) AND NOT has_schema_privilege($2::name, n.oid, p)
  UNION ALL
  SELECT 3, 'table ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname), p
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace,
         unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ${USER_SCHEMA}
     AND has_table_privilege($1::name, c.oid, p) AND NOT has_table_privilege($2::name, c.oid, p)
  UNION ALL
  SELECT 4, 'sequence ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname), p
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace,
         unnest(ARRAY['USAGE', 'SELECT', 'UPDATE']) p
   WHERE c.relkind = 'S' AND ${USER_SCHEMA}
     AND has_sequence_privilege($1::name, c.oid, p) AND NOT has_sequence_privilege($2::name, c.oid, p)
  UNION ALL
  SELECT 5, 'function ' || quote_ident(n.nspname) || '.' || quote_ident(f.proname)
            || '(' || pg_catalog.pg_get_function_identity_arguments(f.oid) || ')', 'EXECUTE'
    FROM pg_catalog.pg_proc f JOIN pg_catalog.pg_namespace n ON n.oid = f.pronamespace
   WHERE ${USER_SCHEMA}
     AND has_function_privilege($1::name, f.oid, 'EXECUTE')
     AND NOT has_function_privilege($2::name, f.oid, 'EXECUTE')
  UNION ALL
  SELECT 6, kind || ' ' || name, 'OWNERSHIP'
    FROM (
      SELECT 'table' AS kind, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name,
             c.relowner AS owner
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND ${USER_SCHEMA}
      UNION ALL
      SELECT 'schema', quote_ident(n.nspname), n.nspowner
        FROM pg_catalog.pg_namespace n WHERE ${USER_SCHEMA}
      UNION ALL
      SELECT 'function', quote_ident(n.nspname) || '.' || quote_ident(f.proname)
             || '(' || pg_catalog.pg_get_function_identity_arguments(f.oid) || ')', f.proowner
        FROM pg_catalog.pg_proc f JOIN pg_catalog.pg_namespace n ON n.oid = f.pronamespace
       WHERE ${USER_SCHEMA}
    ) owned
   WHERE pg_has_role($1::name, owned.owner, 'USAGE') AND NOT pg_has_role($2::name, owned.owner, 'USAGE')
  UNION ALL
  SELECT 7, 'role ' || quote_ident(r.rolname), 'MEMBER'
    FROM pg_catalog.pg_roles r
   WHERE r.rolname NOT IN ($1::name, $2::name)
     AND pg_has_role($1::name, r.oid, 'MEMBER') AND NOT pg_has_role($2::name, r.oid, 'MEMBER')
)
SELECT object, privilege FROM gaps ORDER BY o, object, privilege LIMIT 1`;
/**
 * Terminates the other sessions of a login; `count` is how many pg_terminate_backend ended. The
 * CASE fixes the evaluation order: in a plain AND the planner may call pg_terminate_backend
 * before the filters, on every backend (ours included).
 */
export const END_SESSIONS_SQL =
  'SELECT count(*)::int AS "count" FROM pg_catalog.pg_stat_activity WHERE CASE WHEN usename = $1 AND pid <> pg_catalog.pg_backend_pid() THEN pg_catalog.pg_terminate_backend(pid) ELSE false END';
