import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { inspect } from 'node:util';
import type { Credential, DatabaseEngine, Endpoint } from '../../../shared/engines/engine';
import { PermanentError, TransientError } from '../../../shared/errors';

/** A session opened with the driver directly, outside the engine under test. */
export interface RawSession {
  query(sql: string): Promise<unknown[]>;
  close(): Promise<void>;
}

/** Privilege kinds the parity cases cover (MariaDB has no owners: `owned` is ALL on a table). */
export const PRIVILEGE_KINDS = ['table', 'owned', 'sequence', 'function'] as const;
export type PrivilegeKind = (typeof PRIVILEGE_KINDS)[number];

/** A server of the suite's own, which the "goes away" test kills and restarts. */
export interface OwnServer {
  endpoint: Endpoint;
  admin: Credential;
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface EngineContractContext {
  engine: DatabaseEngine;
  /** The same engine with other bounds. */
  engineWith(deps: { connectTimeoutMs: number }): DatabaseEngine;
  /** The database the fixtures live in, on the run's shared server. */
  endpoint: Endpoint;
  admin: Credential;
  /** A fresh application login (a template for alternating users) and a query it may run. */
  createAppLogin(): Promise<{ login: Credential; readQuery: string }>;
  /** Engine-specific proof that `clone` has what `template` has. */
  assertEquivalentClone(template: Credential, clone: Credential): Promise<void>;
  openRawSession(login: Credential): Promise<RawSession>;
  /**
   * Give `login` one privilege of `kind` directly (not through the role the logins share) on a
   * fresh object. Returns a statement only a holder can run, in a raw session of the login (it
   * may write: it is not a test query).
   */
  grantDirect(login: Credential, kind: PrivilegeKind): Promise<{ object: string; probe: string }>;
  /** A SELECT that writes through a function `login` may run, and the count of rows it adds. */
  writingSelect(login: Credential): Promise<{ query: string; rows(): Promise<number> }>;
  startOwnServer(): Promise<OwnServer>;
  close(): Promise<void>;
}

// Quotes, backslashes, dollar-quoting and semicolons: every literal path must survive them.
export const newPassword = () => `p'w"\\;$$-${randomBytes(12).toString('base64url')}`;

export const HOSTILE_IDENTIFIERS = [
  'x"; DROP ROLE postgres; --',
  "x'; DROP USER root; --",
  'x`; DROP DATABASE mysql; --',
  'a;b',
  'a b',
  "o'neil",
  'back`tick',
  'dollar$$quote',
  'pct%',
  'new\nline',
  '',
  '1starts_with_digit',
  'ü_non_ascii',
  'x'.repeat(81),
];

/** Every thrown error must be free of the passwords involved, its cause included. */
function expectNoSecret(err: unknown, secrets: string[]): void {
  const text = `${inspect(err, { depth: 6 })} ${JSON.stringify(err)}`;
  for (const secret of secrets) expect(text).not.toContain(secret);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** A TCP server that accepts connections and never says a word. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('no address');
  return {
    port: address.port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export function describeEngineContract(
  name: string,
  makeContext: () => Promise<EngineContractContext>,
): void {
  describe(`engine contract: ${name}`, () => {
    let ctx: EngineContractContext;

    beforeAll(async () => {
      ctx = await makeContext();
    });
    afterAll(async () => {
      await ctx?.close();
    });

    // First: the server really checks passwords. A trust-auth server would make all else moot.
    it('the server rejects a wrong password, and accepts the right one', async () => {
      const wrong = { ...ctx.admin, password: `${ctx.admin.password}-wrong` };
      await expect(ctx.engine.tryLogin(ctx.endpoint, wrong)).resolves.toEqual({
        ok: false,
        reason: 'rejected',
      });
      const unknown = { username: `nobody_${randomBytes(4).toString('hex')}`, password: 'x-y-z-w' };
      await expect(ctx.engine.tryLogin(ctx.endpoint, unknown)).resolves.toEqual({
        ok: false,
        reason: 'rejected',
      });
      await expect(ctx.engine.tryLogin(ctx.endpoint, ctx.admin)).resolves.toEqual({ ok: true });
    });

    describe('tryLogin', () => {
      it('runs the test query and reports success', async () => {
        const { login, readQuery } = await ctx.createAppLogin();
        await expect(ctx.engine.tryLogin(ctx.endpoint, login, readQuery)).resolves.toEqual({
          ok: true,
        });
      });

      it('throws PermanentError when the test query fails, without the password', async () => {
        const { login } = await ctx.createAppLogin();
        const err = await rejection(
          ctx.engine.tryLogin(ctx.endpoint, login, 'SELECT * FROM no_such_table_here'),
        );
        expect(err).toBeInstanceOf(PermanentError);
        expectNoSecret(err, [login.password]);
      });

      it('runs the test query read-only and as one statement', async () => {
        const { login, readQuery } = await ctx.createAppLogin();
        const table = readQuery.replace(/^SELECT count\(\*\) AS n FROM /, '');
        const raw = await ctx.openRawSession(login);
        const rowCount = async () =>
          Number(((await raw.query(readQuery)) as { n: number | string }[])[0]?.n);
        const before = await rowCount();
        await expect(
          ctx.engine.tryLogin(ctx.endpoint, login, `DELETE FROM ${table}`),
        ).rejects.toBeInstanceOf(PermanentError);
        await expect(
          ctx.engine.tryLogin(ctx.endpoint, login, `${readQuery}; SELECT 2`),
        ).rejects.toBeInstanceOf(PermanentError);
        expect(before).toBeGreaterThan(0);
        expect(await rowCount()).toBe(before);
        await raw.close();
      });

      it.each([
        'DROP TABLE items',
        'CREATE TABLE evil (id int)',
        'ALTER TABLE items ADD COLUMN evil int',
        'GRANT ALL ON items TO PUBLIC',
        "CREATE USER evil IDENTIFIED BY 'x-Y-1-z'",
        "ALTER USER root IDENTIFIED BY 'x-Y-1-z'",
        'SELECT 1; DROP TABLE items',
        'SELECT * FROM items INTO OUTFILE "/tmp/x"',
      ])('refuses the DDL or account statement %j before sending it', async (statement) => {
        const { login, readQuery } = await ctx.createAppLogin();
        const err = await rejection(ctx.engine.tryLogin(ctx.endpoint, login, statement));
        expect(err).toBeInstanceOf(PermanentError);
        expect((err as Error).message).toMatch(/^invalid test query/);
        await expect(ctx.engine.tryLogin(ctx.endpoint, login, readQuery)).resolves.toEqual({
          ok: true,
        });
      });

      it('the server itself refuses a read-looking query that writes', async () => {
        const { login } = await ctx.createAppLogin();
        const writing = await ctx.writingSelect(login);
        const err = await rejection(ctx.engine.tryLogin(ctx.endpoint, login, writing.query));
        expect(err).toBeInstanceOf(PermanentError);
        expect((err as Error).message).toMatch(/read.only/i);
        expect(await writing.rows()).toBe(0);
      });

      it('throws TransientError within the connect timeout when the server never answers', async () => {
        const silent = await silentServer();
        try {
          const quick = ctx.engineWith({ connectTimeoutMs: 500 });
          const started = Date.now();
          const err = await rejection(
            quick.tryLogin({ ...ctx.endpoint, host: '127.0.0.1', port: silent.port }, ctx.admin),
          );
          expect(err).toBeInstanceOf(TransientError);
          expect(Date.now() - started).toBeLessThan(3_000);
          expectNoSecret(err, [ctx.admin.password]);
        } finally {
          await silent.close();
        }
      });
    });

    describe('setPassword', () => {
      it('rejects the old password, accepts the new one, and open sessions survive', async () => {
        const { login, readQuery } = await ctx.createAppLogin();
        const open = await ctx.openRawSession(login);
        try {
          const next = newPassword();
          await ctx.engine.withSession(ctx.endpoint, ctx.admin, (s) =>
            s.setPassword(login.username, next),
          );
          await expect(ctx.engine.tryLogin(ctx.endpoint, login)).resolves.toEqual({
            ok: false,
            reason: 'rejected',
          });
          await expect(
            ctx.engine.tryLogin(ctx.endpoint, { ...login, password: next }, readQuery),
          ).resolves.toEqual({ ok: true });
          await expect(open.query(readQuery)).resolves.toHaveLength(1);
        } finally {
          await open.close();
        }
      });

      it('lets a login change its own password (single-user without an admin)', async () => {
        const { login } = await ctx.createAppLogin();
        const next = newPassword();
        await ctx.engine.withSession(ctx.endpoint, login, (s) =>
          s.setPassword(login.username, next),
        );
        await expect(ctx.engine.tryLogin(ctx.endpoint, login)).resolves.toMatchObject({
          ok: false,
        });
        await expect(
          ctx.engine.tryLogin(ctx.endpoint, { ...login, password: next }),
        ).resolves.toEqual({ ok: true });
      });

      it('handles non-ASCII passwords', async () => {
        const { login } = await ctx.createAppLogin();
        const next = `grüße-ñ-€-'\\-${randomBytes(6).toString('hex')}`;
        await ctx.engine.withSession(ctx.endpoint, ctx.admin, (s) =>
          s.setPassword(login.username, next),
        );
        await expect(
          ctx.engine.tryLogin(ctx.endpoint, { ...login, password: next }),
        ).resolves.toEqual({ ok: true });
      });

      it('fails without the password in the error', async () => {
        const secret = newPassword();
        const err = await rejection(
          ctx.engine.withSession(ctx.endpoint, ctx.admin, (s) =>
            s.setPassword(`missing_${randomBytes(4).toString('hex')}`, secret),
          ),
        );
        expect(err).toBeInstanceOf(PermanentError);
        expectNoSecret(err, [secret, ctx.admin.password]);
      });
    });

    it('loginExists tells existing logins from missing ones', async () => {
      const { login } = await ctx.createAppLogin();
      const [yes, no] = await ctx.engine.withSession(ctx.endpoint, ctx.admin, async (s) => [
        await s.loginExists(login.username),
        await s.loginExists(`missing_${randomBytes(4).toString('hex')}`),
      ]);
      expect(yes).toBe(true);
      expect(no).toBe(false);
    });

    it('createLoginLike makes a login that can do what the template can', async () => {
      const { login: template, readQuery } = await ctx.createAppLogin();
      const clone = { username: `${template.username}_clone`, password: newPassword() };
      await ctx.engine.withSession(ctx.endpoint, ctx.admin, async (s) => {
        expect(await s.loginExists(clone.username)).toBe(false);
        await s.createLoginLike(clone.username, template.username, clone.password);
        expect(await s.loginExists(clone.username)).toBe(true);
      });
      await expect(ctx.engine.tryLogin(ctx.endpoint, clone, readQuery)).resolves.toEqual({
        ok: true,
      });
      await expect(ctx.engine.tryLogin(ctx.endpoint, template, readQuery)).resolves.toEqual({
        ok: true,
      });
      await ctx.assertEquivalentClone(template, clone);
    });

    describe('privilege parity (alternating users)', () => {
      const gapOf = (candidate: Credential, reference: Credential) =>
        ctx.engine.withSession(ctx.endpoint, ctx.admin, (s) =>
          s.privilegeGap(candidate.username, reference.username),
        );
      const runs = async (login: Credential, probe: string) => {
        const raw = await ctx.openRawSession(login);
        try {
          await raw.query(probe);
        } finally {
          await raw.close();
        }
      };
      const cloneOf = async (template: Credential) => {
        const clone = { username: `${template.username}_clone`, password: newPassword() };
        await ctx.engine.withSession(ctx.endpoint, ctx.admin, (s) =>
          s.createLoginLike(clone.username, template.username, clone.password),
        );
        return clone;
      };

      it('the clone can do what the template can: direct grant, owned table, sequence, function', async () => {
        const { login: template } = await ctx.createAppLogin();
        const granted = [];
        for (const kind of PRIVILEGE_KINDS) granted.push(await ctx.grantDirect(template, kind));
        for (const g of granted) await runs(template, g.probe);
        const clone = await cloneOf(template);
        for (const g of granted) await runs(clone, g.probe);
        await expect(gapOf(clone, template)).resolves.toBeUndefined();
        // And back: what the clone can do, the template can (the next rotation's direction).
        await expect(gapOf(template, clone)).resolves.toBeUndefined();
      });

      it('a grant added to the current login after the clone was made reaches it at sync', async () => {
        const { login: template } = await ctx.createAppLogin();
        const clone = await cloneOf(template);
        const later = await ctx.grantDirect(template, 'table');
        await ctx.engine.withSession(ctx.endpoint, ctx.admin, (s) =>
          s.syncLoginLike(clone.username, template.username),
        );
        await runs(clone, later.probe);
        await expect(gapOf(clone, template)).resolves.toBeUndefined();
        // Sync adds only, and twice is harmless.
        await ctx.engine.withSession(ctx.endpoint, ctx.admin, (s) =>
          s.syncLoginLike(clone.username, template.username),
        );
        await expect(gapOf(clone, template)).resolves.toBeUndefined();
      });

      it('names the first missing privilege and its object, and nothing else', async () => {
        const { login: template, readQuery } = await ctx.createAppLogin();
        const clone = await cloneOf(template);
        const only = await ctx.grantDirect(clone, 'table');
        const gap = await gapOf(template, clone);
        expect(gap).toContain(`${template.username} lacks SELECT`);
        expect(gap).toContain(only.object);
        expectNoSecret(gap, [template.password, clone.password, ctx.admin.password]);
        // Comparing changes nothing: both still log in.
        await expect(ctx.engine.tryLogin(ctx.endpoint, clone, readQuery)).resolves.toEqual({
          ok: true,
        });
        await expect(ctx.engine.tryLogin(ctx.endpoint, template, readQuery)).resolves.toEqual({
          ok: true,
        });
      });
    });

    it('createLoginLike of a missing template fails permanently and creates nothing', async () => {
      const clone = `c_${randomBytes(4).toString('hex')}`;
      await ctx.engine.withSession(ctx.endpoint, ctx.admin, async (s) => {
        await expect(
          s.createLoginLike(clone, `missing_${randomBytes(4).toString('hex')}`, newPassword()),
        ).rejects.toBeInstanceOf(PermanentError);
        expect(await s.loginExists(clone)).toBe(false);
      });
    });

    it('disableLogin rejects new logins; enableLogin lets them in again', async () => {
      const { login } = await ctx.createAppLogin();
      await ctx.engine.withSession(ctx.endpoint, ctx.admin, (s) => s.disableLogin(login.username));
      await expect(ctx.engine.tryLogin(ctx.endpoint, login)).resolves.toEqual({
        ok: false,
        reason: 'rejected',
      });
      await ctx.engine.withSession(ctx.endpoint, ctx.admin, (s) => s.enableLogin(login.username));
      await expect(ctx.engine.tryLogin(ctx.endpoint, login)).resolves.toEqual({ ok: true });
    });

    it('countSessions counts the live sessions of a login', async () => {
      const { login } = await ctx.createAppLogin();
      const count = () =>
        ctx.engine.withSession(ctx.endpoint, ctx.admin, (s) => s.countSessions(login.username));
      expect(await count()).toBe(0);
      const sessions = await Promise.all([ctx.openRawSession(login), ctx.openRawSession(login)]);
      expect(await count()).toBe(2);
      await Promise.all(sessions.map((s) => s.close()));
      // The server reaps a closed session asynchronously.
      for (let i = 0; i < 50 && (await count()) > 0; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(await count()).toBe(0);
    });

    describe('dual password', () => {
      it('keeps both passwords, then only the kept one (or refuses where unsupported)', async () => {
        const { login } = await ctx.createAppLogin();
        const next = newPassword();
        const add = ctx.engine.withSession(ctx.endpoint, ctx.admin, (s) =>
          s.addPassword(login.username, next, login.password),
        );
        if (!ctx.engine.supportsDualPassword) {
          await expect(add).rejects.toBeInstanceOf(PermanentError);
          return;
        }
        await add;
        await expect(ctx.engine.tryLogin(ctx.endpoint, login)).resolves.toEqual({ ok: true });
        await expect(
          ctx.engine.tryLogin(ctx.endpoint, { ...login, password: next }),
        ).resolves.toEqual({ ok: true });
        await ctx.engine.withSession(ctx.endpoint, ctx.admin, (s) =>
          s.discardOtherPasswords(login.username, next),
        );
        await expect(ctx.engine.tryLogin(ctx.endpoint, login)).resolves.toMatchObject({
          ok: false,
        });
        await expect(
          ctx.engine.tryLogin(ctx.endpoint, { ...login, password: next }),
        ).resolves.toEqual({ ok: true });
      });

      it('rolls back to the retained password (after a failed test)', async () => {
        if (!ctx.engine.supportsDualPassword) {
          expect(ctx.engine.name).toBe('postgres');
          return;
        }
        const { login } = await ctx.createAppLogin();
        const next = newPassword();
        await ctx.engine.withSession(ctx.endpoint, ctx.admin, async (s) => {
          await s.addPassword(login.username, next, login.password);
          // A redelivered request must not push the retained password out.
          await s.addPassword(login.username, next, login.password);
          await s.discardOtherPasswords(login.username, login.password);
        });
        await expect(ctx.engine.tryLogin(ctx.endpoint, login)).resolves.toEqual({ ok: true });
        await expect(
          ctx.engine.tryLogin(ctx.endpoint, { ...login, password: next }),
        ).resolves.toMatchObject({ ok: false });
      });
    });

    describe('hostile identifiers', () => {
      it.each(HOSTILE_IDENTIFIERS)('rejects %j before any SQL', async (hostile) => {
        const before = await ctx.engine.tryLogin(ctx.endpoint, ctx.admin);
        await expect(
          ctx.engine.tryLogin(ctx.endpoint, { username: hostile, password: 'whatever' }),
        ).rejects.toBeInstanceOf(PermanentError);
        await expect(
          ctx.engine.tryLogin({ ...ctx.endpoint, database: hostile }, ctx.admin),
        ).rejects.toBeInstanceOf(PermanentError);
        await ctx.engine.withSession(ctx.endpoint, ctx.admin, async (s) => {
          const calls: Array<() => Promise<unknown>> = [
            () => s.setPassword(hostile, 'pw-123456'),
            () => s.loginExists(hostile),
            () => s.createLoginLike(hostile, ctx.admin.username, 'pw-123456'),
            () => s.createLoginLike('fine_name', hostile, 'pw-123456'),
            () => s.enableLogin(hostile),
            () => s.disableLogin(hostile),
            () => s.countSessions(hostile),
          ];
          for (const call of calls) {
            const err = await rejection(call());
            expect(err).toBeInstanceOf(PermanentError);
            expect((err as Error).message).toMatch(/^invalid (username|database|role)/);
          }
        });
        // Nothing happened: the admin still logs in, and the innocent name was not created.
        expect(before).toEqual({ ok: true });
        await expect(ctx.engine.tryLogin(ctx.endpoint, ctx.admin)).resolves.toEqual({ ok: true });
        await ctx.engine.withSession(ctx.endpoint, ctx.admin, async (s) => {
          expect(await s.loginExists('fine_name')).toBe(false);
        });
      });
    });

    it('a database that goes away: TransientError, quickly; back after restart', async () => {
      const own = await ctx.startOwnServer();
      try {
        await expect(ctx.engine.tryLogin(own.endpoint, own.admin)).resolves.toEqual({ ok: true });
        await own.kill();
        const started = Date.now();
        const err = await rejection(ctx.engine.tryLogin(own.endpoint, own.admin));
        expect(err).toBeInstanceOf(TransientError);
        expect(Date.now() - started).toBeLessThan(2_000);
        expectNoSecret(err, [own.admin.password]);
        await expect(
          ctx.engine.withSession(own.endpoint, own.admin, (s) => s.loginExists(own.admin.username)),
        ).rejects.toBeInstanceOf(TransientError);
        await own.start();
        await expect(ctx.engine.tryLogin(own.endpoint, own.admin)).resolves.toEqual({ ok: true });
      } finally {
        await own.stop();
      }
    });
  });
}
