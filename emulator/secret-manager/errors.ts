import { status } from '@grpc/grpc-js';

/** A refusal with a real gRPC status code and a message shaped like Secret Manager's. */
export class SmError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = 'SmError';
  }
}

export const notFound = (message: string) => new SmError(status.NOT_FOUND, message);
export const alreadyExists = (message: string) => new SmError(status.ALREADY_EXISTS, message);
export const invalidArgument = (message: string) => new SmError(status.INVALID_ARGUMENT, message);
export const failedPrecondition = (message: string) =>
  new SmError(status.FAILED_PRECONDITION, message);
export const unimplemented = (message: string) => new SmError(status.UNIMPLEMENTED, message);

/** Production's generic answer to a malformed field (update mask paths, bad numbers, …). */
export const INVALID_REQUEST = 'Request contains an invalid argument.';

export const staleEtag = () =>
  failedPrecondition(
    "The etag provided in the request does not match the resource's current etag. Please retry the whole read-modify-write with exponential backoff.",
  );

export const secretNotFound = (secretName: string) => notFound(`Secret [${secretName}] not found.`);

/** What AccessSecretVersion and GetSecretVersion answer when the secret is missing or empty. */
export const secretNotFoundOrEmpty = (secretName: string) =>
  notFound(`Secret [${secretName}] not found or has no versions.`);

export const versionNotFound = (versionName: string) =>
  notFound(`Secret Version [${versionName}] not found.`);
