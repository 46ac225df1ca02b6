import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { credentials } from '@grpc/grpc-js';
import { z } from 'zod';

/**
 * The project's one way to build a Secret Manager client. With
 * `SECRET_MANAGER_EMULATOR_HOST=host:port` set it talks to the local emulator the way the Pub/Sub
 * client honours PUBSUB_EMULATOR_HOST: an insecure channel, no credentials, and an explicit
 * universe domain so gax never probes the metadata server. Without it: the official client with
 * Application Default Credentials, on the regional endpoint for a regional secret.
 */
export type SecretManagerClientOptions = ConstructorParameters<
  typeof SecretManagerServiceClient
>[0];

export interface CreateSecretManagerClientOptions {
  /** The location of the regional secrets this client will address; global when absent. */
  location?: string;
  env?: NodeJS.ProcessEnv;
}

export const EMULATOR_HOST_VARIABLE = 'SECRET_MANAGER_EMULATOR_HOST';

// A location ends up in a host name: only what a Google Cloud location id can be.
const location = z.string().regex(/^[a-z][a-z0-9-]{0,61}[a-z0-9]$/, 'not a Google Cloud location');
const emulatorHost = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/, 'expected host:port');

export function secretManagerClientOptions(
  options: CreateSecretManagerClientOptions = {},
): SecretManagerClientOptions {
  const env = options.env ?? process.env;
  const region = options.location === undefined ? undefined : location.parse(options.location);
  const emulator = env[EMULATOR_HOST_VARIABLE];
  if (emulator) {
    const address = emulatorHost.parse(emulator);
    const cut = address.lastIndexOf(':');
    return {
      apiEndpoint: address.slice(0, cut).replace(/^\[(.*)\]$/, '$1'),
      port: Number(address.slice(cut + 1)),
      sslCreds: credentials.createInsecure(),
      universeDomain: 'googleapis.com',
    };
  }
  return region ? { apiEndpoint: `secretmanager.${region}.rep.googleapis.com` } : {};
}

export function createSecretManagerClient(
  options: CreateSecretManagerClientOptions = {},
): SecretManagerServiceClient {
  return new SecretManagerServiceClient(secretManagerClientOptions(options));
}

const REGIONAL = /^projects\/[^/]+\/locations\/([^/]+)\/secrets\/[^/]+(\/versions\/[^/]+)?$/;

/** The location of a regional secret (or version) name; undefined for a global one. */
export function locationOf(secretName: string): string | undefined {
  return REGIONAL.exec(secretName)?.[1];
}
