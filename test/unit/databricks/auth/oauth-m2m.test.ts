import { ManualClock } from '../../../../devtools/manual-clock';
import {
  type FakeWorkspace,
  startFakeWorkspace,
} from '../../../../emulator/databricks/fake-workspace';
import { oauthM2mTokenProvider } from '../../../../shared/databricks/auth/oauth-m2m';
import { DatabricksError } from '../../../../shared/databricks/databricks-error';
import { Redactor } from '../../../../shared/logging/redactor';

const CLIENT_ID = 'c0ffee00-1111-2222-3333-444455556666';
const CLIENT_SECRET = 'dose-client-secret-abcdef';
const MINUTE = 60_000;

describe('OAuth M2M auth (against the fake /oidc/v1/token)', () => {
  let workspace: FakeWorkspace;
  let clock: ManualClock;
  let reads: string[];
  let redactor: Redactor;

  const provider = (secret = CLIENT_SECRET) =>
    oauthM2mTokenProvider({
      host: workspace.url,
      clientId: CLIENT_ID,
      clientSecretSecret: 'databricks-sp-secret',
      readSecret: async (name) => {
        reads.push(name);
        return secret;
      },
      clock,
      random: () => 0,
      redactor,
    });

  beforeEach(async () => {
    workspace = await startFakeWorkspace();
    workspace.addOAuthClient(CLIENT_ID, CLIENT_SECRET, 3600);
    clock = new ManualClock();
    reads = [];
    redactor = new Redactor();
  });

  afterEach(() => workspace.close());

  it('gets a token with client_credentials and scope all-apis, usable on the workspace', async () => {
    const token = await provider().getToken();

    const res = await fetch(`${workspace.url}/api/2.1/clusters/get?cluster_id=none`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(400); // authenticated; the cluster just does not exist
    expect(reads).toEqual(['databricks-sp-secret']);
    expect(workspace.requests[0]).toMatchObject({
      path: '/oidc/v1/token',
      status: 200,
      auth: 'basic',
    });
    expect(redactor.scrub(`${token} ${CLIENT_SECRET}`)).toBe('[REDACTED] [REDACTED]');
  });

  it('caches the token until shortly before expires_in, then mints anew with a fresh secret read', async () => {
    const tokens = provider();
    const first = await tokens.getToken();

    clock.advance(54 * MINUTE);
    expect(await tokens.getToken()).toBe(first);
    expect(workspace.issuedOAuthTokens()).toBe(1);

    clock.advance(2 * MINUTE);
    const second = await tokens.getToken();
    expect(second).not.toBe(first);
    expect(workspace.issuedOAuthTokens()).toBe(2);
    expect(reads).toHaveLength(2);
  });

  it('rides out a 429 from the token endpoint', async () => {
    workspace.faults.add({ path: '/oidc/v1/token', status: 429, times: 2 });

    await expect(provider().getToken()).resolves.toMatch(/^dapi-oauth-/);
    expect(clock.sleeps).toEqual([1_000, 1_000]);
  });

  it('fails with the OAuth error code and no secret in the message', async () => {
    const err = await provider('wrong-secret-value')
      .getToken()
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(DatabricksError);
    expect(err).toMatchObject({ status: 401, errorCode: 'invalid_client', permanent: true });
    expect((err as Error).message).not.toContain('wrong-secret-value');
    expect((err as Error).message).not.toContain(CLIENT_ID);
  });
});
