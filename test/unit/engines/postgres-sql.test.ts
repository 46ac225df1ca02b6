import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { scramSha256Verifier } from '../../../shared/engines/postgres-scram';
import {
  alterRoleLoginSql,
  alterRolePasswordSql,
  createLoginRoleSql,
  grantMembershipSql,
  roleSettingSql,
  splitGucList,
} from '../../../shared/engines/postgres-sql';
import { PermanentError } from '../../../shared/errors';

interface ScramSession {
  clientNonce: string;
  response: string;
}
// pg's internal SCRAM client (untyped): an independent implementation to check verifiers against.
const sasl = require('pg/lib/crypto/sasl') as {
  startSession(mechanisms: string[]): ScramSession;
  continueSession(session: ScramSession, password: string, serverData: string): Promise<void>;
  finalizeSession(session: ScramSession, serverData: string): void;
};

describe('PostgreSQL statements', () => {
  it('quotes identifiers and literals (backslashes switch to E-strings)', () => {
    expect(alterRolePasswordSql('App_User', "it's")).toBe(
      `ALTER ROLE "App_User" WITH PASSWORD 'it''s'`,
    );
    // pg's escapeLiteral prefixes E-strings with a space.
    expect(alterRolePasswordSql('app', 'back\\slash')).toBe(
      `ALTER ROLE "app" WITH PASSWORD  E'back\\\\slash'`,
    );
    expect(alterRoleLoginSql('app', false)).toBe('ALTER ROLE "app" WITH NOLOGIN');
    expect(alterRoleLoginSql('app', true)).toBe('ALTER ROLE "app" WITH LOGIN');
  });

  it('creates the clone with the template attributes', () => {
    expect(createLoginRoleSql('app_clone', 'SCRAM', { inherit: true, connectionLimit: -1 })).toBe(
      `CREATE ROLE "app_clone" WITH LOGIN INHERIT CONNECTION LIMIT -1 PASSWORD 'SCRAM'`,
    );
    expect(createLoginRoleSql('app_clone', 'x', { inherit: false, connectionLimit: 5 })).toContain(
      'NOINHERIT CONNECTION LIMIT 5',
    );
  });

  it('grants catalog roles, predefined or oddly named, quoted', () => {
    expect(grantMembershipSql('pg_read_all_data', 'app_clone', false)).toBe(
      'GRANT "pg_read_all_data" TO "app_clone"',
    );
    expect(grantMembershipSql('Owner "Team"', 'app_clone', true)).toBe(
      'GRANT "Owner ""Team""" TO "app_clone" WITH ADMIN OPTION',
    );
  });

  it('rejects hostile member names before building', () => {
    expect(() => grantMembershipSql('owner', 'x"; DROP ROLE postgres; --', false)).toThrow(
      PermanentError,
    );
    expect(() => alterRolePasswordSql('pg_signal_backend', 'x')).toThrow(PermanentError);
  });

  it('re-emits role settings the way pg_dump does', () => {
    expect(roleSettingSql('app_clone', null, 'role=app_owner')).toBe(
      `ALTER ROLE "app_clone" SET "role" TO 'app_owner'`,
    );
    expect(
      roleSettingSql('app_clone', 'shop', 'search_path=s1, "$user", "Odd ""q"", x", public'),
    ).toBe(
      `ALTER ROLE "app_clone" IN DATABASE "shop" SET "search_path" TO 's1', '$user', 'Odd "q", x', 'public'`,
    );
    expect(roleSettingSql('app_clone', null, "application_name=a, b's")).toBe(
      `ALTER ROLE "app_clone" SET "application_name" TO 'a, b''s'`,
    );
    expect(roleSettingSql('app_clone', null, 'app.tenant=42')).toBe(
      `ALTER ROLE "app_clone" SET "app.tenant" TO '42'`,
    );
    expect(roleSettingSql('app_clone', null, 'search_path=')).toBe(
      `ALTER ROLE "app_clone" SET "search_path" TO ''`,
    );
    expect(() => roleSettingSql('app_clone', null, 'bad name; DROP=1')).toThrow(PermanentError);
    expect(() => roleSettingSql('app_clone', null, 'novalue')).toThrow(PermanentError);
  });

  it('splits GUC lists like SplitGUCList', () => {
    expect(splitGucList('')).toEqual([]);
    expect(splitGucList('  a ,b,  "c d" ')).toEqual(['a', 'b', 'c d']);
    expect(splitGucList('"x""y"')).toEqual(['x"y']);
    expect(() => splitGucList('"open')).toThrow(PermanentError);
    expect(() => splitGucList('a b')).toThrow(PermanentError);
  });
});

describe('scramSha256Verifier', () => {
  const salt = Buffer.alloc(16, 7);

  it("builds a verifier that pg's own SCRAM client authenticates against", async () => {
    const verifier = scramSha256Verifier('pencil', () => salt) ?? '';
    expect(verifier).not.toContain('pencil');
    const match = /^SCRAM-SHA-256\$4096:([^$]+)\$([^:]+):(.+)$/.exec(verifier);
    expect(match?.[1]).toBe(salt.toString('base64'));
    const storedKey = Buffer.from(match?.[2] ?? '', 'base64');
    const serverKey = Buffer.from(match?.[3] ?? '', 'base64');

    // Play the server's side of SCRAM-SHA-256 (RFC 5802) with the verifier alone, against the
    // client implementation the pg driver uses to log in.
    const session = sasl.startSession(['SCRAM-SHA-256']);
    const serverFirst = `r=${session.clientNonce}server-nonce,s=${salt.toString('base64')},i=4096`;
    await sasl.continueSession(session, 'pencil', serverFirst);
    const proof = Buffer.from(/,p=(.+)$/.exec(session.response)?.[1] ?? '', 'base64');
    const withoutProof = session.response.replace(/,p=.+$/, '');
    const authMessage = `n=*,r=${session.clientNonce},${serverFirst},${withoutProof}`;
    const clientSignature = createHmac('sha256', storedKey).update(authMessage).digest();
    const clientKey = Buffer.from(proof.map((b, i) => b ^ (clientSignature[i] ?? 0)));
    expect(createHash('sha256').update(clientKey).digest()).toEqual(storedKey);
    const serverSignature = createHmac('sha256', serverKey).update(authMessage).digest('base64');
    expect(() => sasl.finalizeSession(session, `v=${serverSignature}`)).not.toThrow();
  });

  it('a wrong password does not match the verifier', async () => {
    const verifier = scramSha256Verifier('pencil', () => salt) ?? '';
    const storedKey = Buffer.from(verifier.split('$')[2]?.split(':')[0] ?? '', 'base64');
    const salted = pbkdf2Sync('pencil!', salt, 4096, 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    expect(createHash('sha256').update(clientKey).digest()).not.toEqual(storedKey);
  });

  it('leaves non-ASCII passwords to the server (SASLprep)', () => {
    expect(scramSha256Verifier('grüße', () => salt)).toBeUndefined();
  });
});
