import { ConflictError, PermanentError, ThrottledError, TransientError } from '../errors';

/**
 * What a Secret Manager failure means to the rotator: the gRPC status gax throws, mapped onto the
 * error family (permanent, transient, conflict) and the few Secret Manager-specific classes.
 */

// gRPC status codes, as numbers on the errors gax throws.
const GRPC = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export class SecretNotFoundError extends PermanentError {
  constructor(message: string, options?: ConstructorParameters<typeof PermanentError>[1]) {
    super(message, options);
    this.name = 'SecretNotFoundError';
  }
}

/** Access to a DISABLED or DESTROYED version. */
export class VersionNotEnabledError extends PermanentError {
  constructor(message: string, options?: ConstructorParameters<typeof PermanentError>[1]) {
    super(message, options);
    this.name = 'VersionNotEnabledError';
  }
}

/**
 * PERMISSION_DENIED. Right after a terraform apply the grant may simply not have propagated yet
 * (IAM changes take effect "typically within 2 minutes, can take 7 minutes or longer", IAM docs),
 * so this is transient here; the caller decides when waiting has lasted long enough
 * (functions/rotate-secret.ts: IAM_PROPAGATION_MS) and reports it as permanent, naming
 * `permission` (parsed from the server's message, e.g. `secretmanager.versions.access`).
 */
export class PermissionDeniedError extends TransientError {
  readonly permission: string | undefined;
  readonly target: string;

  constructor(
    message: string,
    target: string,
    options?: ConstructorParameters<typeof TransientError>[1],
  ) {
    super(message, options);
    this.name = 'PermissionDeniedError';
    this.target = target;
    this.permission = /Permission '([a-z]+(?:\.[A-Za-z]+)+)'/.exec(message)?.[1];
  }
}

/**
 * Map a gax error to our family. FAILED_PRECONDITION means an etag mismatch on writes and a
 * non-enabled version on access; the caller says which it is.
 */
export function classifySecretManagerError(
  err: unknown,
  op: string,
  target: string,
  onPrecondition: 'conflict' | 'state',
) {
  const code = (err as { code?: unknown }).code;
  const detail = (err as { details?: unknown }).details;
  const message = `${op} ${target}: ${typeof detail === 'string' && detail ? detail : (err as Error).message}`;
  const options = { cause: err, context: { op, target, grpcCode: Number(code) } };
  switch (code) {
    case GRPC.NOT_FOUND:
      return new SecretNotFoundError(message, options);
    case GRPC.FAILED_PRECONDITION:
      return onPrecondition === 'conflict'
        ? new ConflictError(message, options)
        : new VersionNotEnabledError(message, options);
    case GRPC.PERMISSION_DENIED:
      return new PermissionDeniedError(message, target, options);
    case GRPC.RESOURCE_EXHAUSTED:
      return new ThrottledError(message, options);
    case GRPC.INVALID_ARGUMENT:
    case GRPC.ALREADY_EXISTS:
    case GRPC.UNAUTHENTICATED:
      return new PermanentError(message, options);
    default:
      // UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, INTERNAL, network: retry later.
      return new TransientError(message, options);
  }
}
