import { status } from '@grpc/grpc-js';

/** A refusal with a real gRPC status code and, where we saw it, the official emulator's wording. */
export class PubSubError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = 'PubSubError';
  }
}

export const notFound = (message: string) => new PubSubError(status.NOT_FOUND, message);
export const alreadyExists = (message: string) => new PubSubError(status.ALREADY_EXISTS, message);
export const invalidArgument = (message: string) =>
  new PubSubError(status.INVALID_ARGUMENT, message);
export const outOfRange = (message: string) => new PubSubError(status.OUT_OF_RANGE, message);
/** A real Pub/Sub feature the stand-in does not model: refuse loudly rather than diverge quietly. */
export const unsupported = (feature: string) =>
  new PubSubError(status.UNIMPLEMENTED, `${feature} is not supported by the in-process stand-in`);
