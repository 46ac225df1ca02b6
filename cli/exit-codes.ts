import { describeError, TransientError } from '../shared/errors';
import { PermissionDeniedError, SecretNotFoundError } from '../shared/secrets/secret-store';

/**
 * What `gsm-rotator` exits with. Scripts branch on these, so they are part of the CLI's contract
 * (listed in `--help` and docs/operations.md) and never change meaning.
 */
export const EXIT = {
  /** Done, and everything looked at is fine. */
  ok: 0,
  /** The thing looked at is not fine: a check failed, the rotation failed, a secret is failed or
   * overdue, or an unexpected error (e.g. permission denied). */
  notOk: 1,
  /** The command line is wrong: unknown command or option, bad value, missing project. */
  usage: 2,
  /** The secret does not exist, is not managed by gsm-rotator, or its config is invalid. */
  notFound: 3,
  /** Secret Manager or Pub/Sub could not be reached, or `rotate --wait` timed out: try again. */
  transient: 4,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `Exit codes:
  0  ok
  1  not ok: a check failed, the rotation failed, a secret is failed or overdue, other errors
  2  usage error: unknown command or option, bad value, missing project
  3  secret not found, not managed by gsm-rotator, or invalid rotation config
  4  transient: Secret Manager or Pub/Sub unreachable, or rotate --wait timed out`;

/** An error the CLI reports as one line and a chosen exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);
export const notFoundError = (message: string) => new CliError(message, EXIT.notFound);

/** The exit code and the one-line message for anything a command threw. */
export function describeFailure(err: unknown): { exitCode: ExitCode; message: string } {
  if (err instanceof CliError) return { exitCode: err.exitCode, message: err.message };
  const { message } = describeError(err);
  if (err instanceof SecretNotFoundError) return { exitCode: EXIT.notFound, message };
  // An operator's missing grant: waiting for IAM propagation is the functions' concern.
  if (err instanceof PermissionDeniedError) return { exitCode: EXIT.notOk, message };
  // Includes ConflictError (a concurrent write): running the command again helps.
  if (err instanceof TransientError) {
    return { exitCode: EXIT.transient, message: `${message} (transient: try again)` };
  }
  // PermanentError (permission denied, a bad payload...) and anything unclassified.
  return { exitCode: EXIT.notOk, message };
}
