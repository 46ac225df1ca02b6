import { describeError, TransientError } from '../shared/errors';
import { PermissionDeniedError, SecretNotFoundError } from '../shared/secrets/errors';

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
  /** The command line or the environment is wrong: unknown command or option, bad value, missing
   * project, no Google credentials. Running the same command again cannot help. */
  usage: 2,
  /** The secret does not exist, is not managed by gsm-rotator, or its config is invalid. */
  notFound: 3,
  /** Secret Manager or Pub/Sub could not be reached, or `rotate --wait` timed out: try again. */
  transient: 4,
  /** `rollback` refused: the previous credential no longer works (single-user, retired, or its
   * login was rejected). Running it again cannot help; rotate instead. */
  refused: 5,
  /** Interrupted (Ctrl-C) while `rotate --wait` followed a rotation; the rotation continues. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `Exit codes:
  0  ok
  1  not ok: a check failed, the rotation failed, a secret is failed or overdue, other errors
  2  usage or configuration error: unknown command or option, bad value, missing project,
     no Google credentials (gcloud auth application-default login)
  3  secret not found, not managed by gsm-rotator, or invalid rotation config
  4  transient: Secret Manager or Pub/Sub unreachable, the secret busy, or rotate --wait timed out
  5  rollback refused: the previous credential no longer works (single-user, retired, login rejected)
  130 interrupted (Ctrl-C) while rotate --wait followed a rotation: it continues`;

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

export const ADC_HINT = 'gcloud auth application-default login';

// google-auth-library's own texts (GoogleAuthExceptionMessages.NO_ADC_FOUND and
// NO_CREDENTIALS_FOUND in googleauth.js), and the token endpoint's answers to an expired or
// revoked login (invalid_grant; invalid_rapt when a reauthentication is required).
const NO_CREDENTIALS =
  /Could not load the default credentials|Unable to find credentials in current environment|invalid_grant|invalid_rapt/;
// grpc-js when nothing listens: "No connection established. Last error: Error: connect
// ECONNREFUSED 127.0.0.1:9090. Resolution note: " (the note is empty for a refused connection).
const REFUSED = /ECONNREFUSED|No connection established/;

/** Every message of an error and its causes, for recognising a library's failure. */
function messages(err: unknown): string {
  const texts: string[] = [];
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    texts.push(e.message);
  }
  return texts.join('\n');
}

/** gRPC's "Resolution note: " tail says nothing when empty: drop it. */
const tidy = (message: string) => message.replace(/\.? ?Resolution note: *(?=\)|$)/g, '');

/**
 * The exit code and the one-line message for anything a command threw. `env` names the emulator
 * addresses a local-stack user set, so an unreachable one is named with what to start.
 */
export function describeFailure(
  err: unknown,
  env: NodeJS.ProcessEnv = {},
): { exitCode: ExitCode; message: string } {
  if (err instanceof CliError) return { exitCode: err.exitCode, message: err.message };
  const message = tidy(describeError(err).message);
  const all = messages(err);
  if (NO_CREDENTIALS.test(all)) {
    // Missing or expired credentials: a configuration problem, never healed by retrying.
    return {
      exitCode: EXIT.usage,
      message: `no usable Google credentials (${message}); sign in with: ${ADC_HINT} (or set SECRET_MANAGER_EMULATOR_HOST and PUBSUB_EMULATOR_HOST for the local stack)`,
    };
  }
  const emulator = localEmulatorDown(all, env);
  if (emulator) return { exitCode: EXIT.transient, message: emulator };
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

/** The local stack's emulators, by the variable that points at each. */
const EMULATORS = [
  { variable: 'SECRET_MANAGER_EMULATOR_HOST', name: 'Secret Manager emulator' },
  { variable: 'PUBSUB_EMULATOR_HOST', name: 'Pub/Sub emulator' },
] as const;

function localEmulatorDown(all: string, env: NodeJS.ProcessEnv): string | undefined {
  if (!REFUSED.test(all)) return undefined;
  const refused = EMULATORS.filter(({ variable }) => {
    const host = env[variable];
    return host !== undefined && host !== '' && all.includes(host);
  });
  const hit = refused[0] ?? EMULATORS.find(({ variable }) => env[variable]);
  if (!hit) return undefined;
  return `cannot reach the ${hit.name} at ${env[hit.variable]} (${hit.variable}): is the local stack running? Start it with \`npm start\` in another terminal, or unset the emulator variables to use Google Cloud (transient: try again)`;
}
