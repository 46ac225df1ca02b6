import { instance as gaxios } from 'gaxios';
import { Compute, GoogleAuth, OAuth2Client } from 'google-auth-library';
import { ManualClock } from '../../../../devtools/manual-clock';
import {
  type FakeGoogle,
  jwtClaims,
  RUNTIME_SA,
  startFakeGoogle,
} from '../../../../emulator/databricks/fake-google';
import {
  googleIdTokenProvider,
  impersonatedIdTokenSource,
  runtimeIdTokenSource,
} from '../../../../shared/databricks/auth/google-id';
import { TransientError } from '../../../../shared/errors';
import { Redactor } from '../../../../shared/logging/redactor';

const WORKSPACE = 'https://1234567890123456.7.gcp.databricks.com';
const SOURCE_TOKEN = 'ya29.source-access-token';
const MINUTE = 60_000;

describe('Google ID token auth (google-auth-library against a stand-in Google)', () => {
  let clock: ManualClock;
  let google: FakeGoogle;
  const savedHost = process.env.GCE_METADATA_HOST;

  // gaxios loads node-fetch with a dynamic import, which jest's VM cannot do (Node itself can, so
  // production is unaffected): hand it Node's fetch for these tests.
  beforeAll(() => {
    gaxios.defaults.fetchImplementation = fetch;
  });
  afterAll(() => {
    delete gaxios.defaults.fetchImplementation;
  });

  beforeEach(async () => {
    clock = new ManualClock();
    google = await startFakeGoogle({ now: () => clock.now(), sourceToken: SOURCE_TOKEN });
    process.env.GCE_METADATA_HOST = google.metadataHost;
  });

  afterEach(async () => {
    await google.close();
    if (savedHost === undefined) delete process.env.GCE_METADATA_HOST;
    else process.env.GCE_METADATA_HOST = savedHost;
  });

  it("mints the runtime account's token via the metadata server, audience = workspace URL", async () => {
    const redactor = new Redactor();
    const auth = new GoogleAuth({ authClient: new Compute() });
    const provider = googleIdTokenProvider(WORKSPACE, runtimeIdTokenSource(auth), {
      clock,
      redactor,
    });

    const token = await provider.getToken();

    expect(jwtClaims(token)).toMatchObject({ aud: WORKSPACE, email: RUNTIME_SA });
    expect(google.minted).toEqual([{ via: 'metadata', audience: WORKSPACE, email: RUNTIME_SA }]);
    expect(redactor.scrub(`Bearer ${token}`)).toBe('Bearer [REDACTED]');
  });

  it('caches the token until 5 minutes before its exp, then mints a new one', async () => {
    const auth = new GoogleAuth({ authClient: new Compute() });
    const provider = googleIdTokenProvider(WORKSPACE, runtimeIdTokenSource(auth), {
      clock,
      redactor: new Redactor(),
    });

    const first = await provider.getToken();
    clock.advance(54 * MINUTE);
    expect(await provider.getToken()).toBe(first);
    expect(google.minted).toHaveLength(1);

    clock.advance(2 * MINUTE);
    const second = await provider.getToken();
    expect(second).not.toBe(first);
    expect(google.minted).toHaveLength(2);
  });

  it('shares one mint between concurrent callers', async () => {
    const auth = new GoogleAuth({ authClient: new Compute() });
    const provider = googleIdTokenProvider(WORKSPACE, runtimeIdTokenSource(auth), {
      clock,
      redactor: new Redactor(),
    });

    const tokens = await Promise.all([
      provider.getToken(),
      provider.getToken(),
      provider.getToken(),
    ]);

    expect(new Set(tokens).size).toBe(1);
    expect(google.minted).toHaveLength(1);
  });

  it('impersonates a service account through IAM Credentials with include_email', async () => {
    const sourceClient = new OAuth2Client({ transporterOptions: { fetchImplementation: fetch } });
    sourceClient.setCredentials({
      access_token: SOURCE_TOKEN,
      expiry_date: Date.now() + 3_600_000,
    });
    const target = 'databricks-caller@demo-project.iam.gserviceaccount.com';
    const source = impersonatedIdTokenSource(target, {
      sourceClient,
      endpoint: google.iamEndpoint,
    });
    const provider = googleIdTokenProvider(WORKSPACE, source, { clock, redactor: new Redactor() });

    const token = await provider.getToken();
    await provider.getToken();

    expect(jwtClaims(token)).toMatchObject({ aud: WORKSPACE, email: target });
    expect(google.minted).toEqual([
      { via: 'iam', audience: WORKSPACE, email: target, includeEmail: true },
    ]);
  });

  it('fails without quoting anything when the token has no exp: transient, retried', async () => {
    const provider = googleIdTokenProvider(
      WORKSPACE,
      { fetchIdToken: async () => 'header.e30.signature' },
      { clock, redactor: new Redactor() },
    );

    await expect(provider.getToken()).rejects.toThrow('ID token has no numeric exp claim');
    await expect(provider.getToken()).rejects.toBeInstanceOf(TransientError);
  });
});
