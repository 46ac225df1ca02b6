import { ManualClock } from '../../../../devtools/manual-clock';
import { mintJwt } from '../../../../emulator/databricks/fake-google';
import { createTokenProvider } from '../../../../shared/databricks/auth/create-token-provider';
import { PAT_REREAD_MS } from '../../../../shared/databricks/auth/pat';
import { cachedTokenProvider } from '../../../../shared/databricks/auth/token-provider';
import { WorkspaceConfigSchema } from '../../../../shared/databricks/workspace-config';
import { Redactor } from '../../../../shared/logging/redactor';

describe('cachedTokenProvider', () => {
  it('registers each minted token with the redactor', async () => {
    const clock = new ManualClock();
    const redactor = new Redactor();
    const tokens = cachedTokenProvider(
      async () => ({ value: 'minted-token-1', expiresAtMs: clock.now() + 3_600_000 }),
      { clock, redactor },
    );

    await tokens.getToken();

    expect(redactor.scrub('x minted-token-1 y')).toBe('x [REDACTED] y');
  });

  it('mints again after a failed mint', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const tokens = cachedTokenProvider(
      async () => {
        calls++;
        if (calls === 1) throw new Error('metadata server down');
        return { value: 'second-token', expiresAtMs: clock.now() + 3_600_000 };
      },
      { clock, redactor: new Redactor() },
    );

    await expect(tokens.getToken()).rejects.toThrow('metadata server down');
    await expect(tokens.getToken()).resolves.toBe('second-token');
  });
});

describe('createTokenProvider', () => {
  const host = 'https://1234567890123456.7.gcp.databricks.com';

  it('google-id: uses the ID token source with the workspace URL as audience', async () => {
    const clock = new ManualClock();
    const audiences: string[] = [];
    const workspace = WorkspaceConfigSchema.parse({
      host: `${host}/`,
      auth: { type: 'google-id' },
    });
    const tokens = createTokenProvider(workspace, {
      clock,
      random: Math.random,
      redactor: new Redactor(),
      readSecret: async () => {
        throw new Error('not used');
      },
      idTokenSource: {
        fetchIdToken: async (audience) => {
          audiences.push(audience);
          return mintJwt({ aud: audience, exp: clock.now() / 1000 + 3600 });
        },
      },
    });

    await tokens.getToken();

    expect(audiences).toEqual([host]);
  });

  it('pat: reads the token from Secret Manager and re-reads it after a while', async () => {
    const clock = new ManualClock();
    const reads: string[] = [];
    const redactor = new Redactor();
    const workspace = WorkspaceConfigSchema.parse({
      host,
      auth: { type: 'pat', tokenSecret: 'dbx-pat' },
    });
    const tokens = createTokenProvider(workspace, {
      clock,
      random: Math.random,
      redactor,
      readSecret: async (name) => {
        reads.push(name);
        return `dapi-personal-${reads.length}\n`;
      },
    });

    expect(await tokens.getToken()).toBe('dapi-personal-1');
    clock.advance(PAT_REREAD_MS - 1);
    expect(await tokens.getToken()).toBe('dapi-personal-1');
    clock.advance(1);
    expect(await tokens.getToken()).toBe('dapi-personal-2');
    expect(reads).toEqual(['dbx-pat', 'dbx-pat']);
    expect(redactor.scrub('dapi-personal-1')).toBe('[REDACTED]');
  });
});
