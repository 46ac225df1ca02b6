import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { ChannelCredentials } from '@grpc/grpc-js';
import {
  createSecretManagerClient,
  locationOf,
  secretManagerClientOptions,
} from '../../../shared/secrets/client';

describe('createSecretManagerClient', () => {
  it('talks to SECRET_MANAGER_EMULATOR_HOST over an insecure channel, without credentials', () => {
    const options = secretManagerClientOptions({
      env: { SECRET_MANAGER_EMULATOR_HOST: '127.0.0.1:9090' },
    });
    expect(options).toEqual({
      apiEndpoint: '127.0.0.1',
      port: 9090,
      sslCreds: expect.any(ChannelCredentials),
      // Set explicitly so gax never asks the metadata server for a universe domain.
      universeDomain: 'googleapis.com',
    });
    expect(options?.sslCreds?._isSecure()).toBe(false);
  });

  it('keeps using the emulator for regional secrets, and takes IPv6 and host names', () => {
    expect(
      secretManagerClientOptions({
        location: 'europe-west3',
        env: { SECRET_MANAGER_EMULATOR_HOST: '[::1]:8086' },
      }),
    ).toMatchObject({ apiEndpoint: '::1', port: 8086 });
    expect(
      secretManagerClientOptions({ env: { SECRET_MANAGER_EMULATOR_HOST: 'sm-emulator:8086' } }),
    ).toMatchObject({ apiEndpoint: 'sm-emulator', port: 8086 });
  });

  it('refuses an emulator address without a port', () => {
    expect(() =>
      secretManagerClientOptions({ env: { SECRET_MANAGER_EMULATOR_HOST: 'localhost' } }),
    ).toThrow('expected host:port');
  });

  it('uses Application Default Credentials and the global endpoint without the emulator', () => {
    expect(secretManagerClientOptions({ env: {} })).toEqual({});
  });

  it('uses the regional endpoint for a location', () => {
    expect(secretManagerClientOptions({ location: 'us-central1', env: {} })).toEqual({
      apiEndpoint: 'secretmanager.us-central1.rep.googleapis.com',
    });
    expect(() => secretManagerClientOptions({ location: 'evil.example.com/x', env: {} })).toThrow();
  });

  it('builds the official client', async () => {
    const client = createSecretManagerClient({
      env: { SECRET_MANAGER_EMULATOR_HOST: '127.0.0.1:1' },
    });
    expect(client).toBeInstanceOf(SecretManagerServiceClient);
    await client.close();
  });
});

describe('locationOf', () => {
  it.each([
    ['projects/p/locations/europe-west3/secrets/db', 'europe-west3'],
    ['projects/p/locations/us-central1/secrets/db/versions/3', 'us-central1'],
    ['projects/p/secrets/db', undefined],
    ['projects/p/secrets/db/versions/latest', undefined],
    ['not a name', undefined],
  ])('%s → %s', (name, location) => {
    expect(locationOf(name)).toBe(location);
  });
});
