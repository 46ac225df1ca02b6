import { type AuthLike, defaultRequester, googleIdentity } from '../../../cli/identity';

/**
 * `--requested-by`'s default: the signed-in Google identity as google-auth-library names it, the
 * operating system user only as a fallback.
 */
function auth(credentials: { client_email?: string }, token?: string, email?: string): AuthLike {
  return {
    getCredentials: async () => credentials,
    getClient: async () =>
      ({
        getAccessToken: async () => ({ token }),
        getTokenInfo: async (t: string) => {
          if (t !== token) throw new Error('wrong token');
          return { email };
        },
      }) as never,
  } as AuthLike;
}

describe('googleIdentity', () => {
  it('is the service account (a key, the metadata server, or impersonation: its target)', async () => {
    await expect(
      googleIdentity(auth({ client_email: 'gsmr-ops@p.iam.gserviceaccount.com' })),
    ).resolves.toBe('gsmr-ops@p.iam.gserviceaccount.com');
  });

  it("is a user login's email, from its access token", async () => {
    await expect(googleIdentity(auth({}, 'ya29.token', 'alice@example.com'))).resolves.toBe(
      'alice@example.com',
    );
  });

  it('is nothing when the token carries no email', async () => {
    await expect(googleIdentity(auth({}, 'ya29.token', undefined))).resolves.toBeUndefined();
  });
});

describe('defaultRequester', () => {
  const env = { USER: 'alice' };

  it('prefers the Google identity over $USER', async () => {
    await expect(defaultRequester(async () => 'alice@example.com', env, 1_000)).resolves.toBe(
      'alice@example.com',
    );
  });

  it.each<[string, () => Promise<string | undefined>]>([
    ['no identity', async () => undefined],
    [
      'no credentials',
      async () => {
        throw new Error('Could not load the default credentials.');
      },
    ],
    ['an identity that never answers', () => new Promise(() => {})],
  ])('falls back to $USER with %s', async (_what, identity) => {
    await expect(defaultRequester(identity, env, 20)).resolves.toBe('alice');
  });

  it('does not ask Google when the CLI talks to the local stack', async () => {
    const identity = jest.fn(async () => 'alice@example.com');
    await expect(
      defaultRequester(identity, { ...env, SECRET_MANAGER_EMULATOR_HOST: '127.0.0.1:9090' }, 1_000),
    ).resolves.toBe('alice');
    expect(identity).not.toHaveBeenCalled();
  });
});
