import { Command, CommanderError, Option } from 'commander';
import { runAdopt } from './commands/adopt';
import { runCheck } from './commands/check';
import { runHistory } from './commands/history';
import { runPause, runResume } from './commands/pause';
import { runRetireDryRun } from './commands/retire';
import { runRollback } from './commands/rollback';
import { DEFAULT_TOPIC, runRotate } from './commands/rotate';
import { NEXT_TIMES_SHOWN, runStatus } from './commands/status';
import type { CommandContext } from './context';
import type { CliDeps } from './deps';
import { describeFailure, EXIT, EXIT_CODES_HELP, type ExitCode } from './exit-codes';
import {
  DEFAULT_MAX_PAUSE_AGE,
  DEFAULT_OVERDUE_MARGIN,
  durationOption,
  MAX_PAUSE_AGE_VARIABLE,
  maxPauseAge,
  OVERDUE_MARGIN_VARIABLE,
  overdueMargin,
  positiveIntOption,
} from './option-values';
import { createOutput } from './output';
import { PROJECT_VARIABLES, resolveScope } from './scope';

interface GlobalOptions {
  project?: string;
  location?: string[];
  json?: boolean;
}

const SECRET_ARGUMENT_HELP =
  'a secret id (looked up in --project, then in each --location) or a full name: projects/P/secrets/S, projects/P/locations/L/secrets/S';

const ENVIRONMENT_HELP = `Environment:
  ${PROJECT_VARIABLES.join(', ')}  default --project (first one set)
  SECRET_MANAGER_EMULATOR_HOST  talk to the local Secret Manager emulator instead of Google
  PUBSUB_EMULATOR_HOST          talk to the local Pub/Sub emulator instead of Google
  ${OVERDUE_MARGIN_VARIABLE}        default --overdue-margin (${DEFAULT_OVERDUE_MARGIN}), as for retireVersions
  ${MAX_PAUSE_AGE_VARIABLE}         default check --max-pause-age (${DEFAULT_MAX_PAUSE_AGE})
Credentials: Application Default Credentials (gcloud auth application-default login).
Secret values (payloads, passwords, tokens) are never printed.`;

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * The operators' CLI, in-process: parse `argv` (without `node` and the script), run the command
 * against `deps`, and return the exit code. Every mistake ends as one `error: ...` line on stderr.
 */
export async function runCli(argv: string[], deps: CliDeps): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.ok;
  const program = new Command('gsm-rotator');

  const context = (command: Command): CommandContext => {
    const globals = command.optsWithGlobals<GlobalOptions>();
    return {
      deps,
      scope: resolveScope(globals, deps.env),
      out: createOutput({
        json: globals.json === true,
        stdout: deps.stdout,
        stderr: deps.stderr,
        redactor: deps.redactor,
      }),
    };
  };

  program
    .description(
      'Operate gsm-rotator: database credential rotation in Google Cloud Secret Manager.',
    )
    .exitOverride()
    // Every command's --help lists --json, --project and --location too: they are given after
    // the command as often as before it.
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ writeOut: deps.stdout, writeErr: deps.stderr })
    .showHelpAfterError('(add --help for usage)')
    .option('--project <id>', `Google Cloud project (default: $${PROJECT_VARIABLES.join(', $')})`)
    .option(
      '--location <region>',
      'also look at regional secrets in this region (repeatable)',
      collect,
    )
    .option('--json', 'print one JSON document for scripts instead of tables')
    .addHelpText('after', `\n${EXIT_CODES_HELP}\n\n${ENVIRONMENT_HELP}`);

  const overdueOption = () =>
    new Option(
      '--overdue-margin <duration>',
      `how late a scheduled rotation may be before it counts as overdue (default: $${OVERDUE_MARGIN_VARIABLE} or ${DEFAULT_OVERDUE_MARGIN})`,
    );

  program
    .command('status')
    .description(
      'managed secrets: strategy, engine, versions, last and next rotation, state, consumers',
    )
    .argument('[secret]', SECRET_ARGUMENT_HELP)
    .addOption(overdueOption())
    .addHelpText(
      'after',
      `\nStates: ok, paused (scheduled rotations paused), rotating, failed (last rotation failed), overdue (a
scheduled rotation did not happen), invalid-config. A secret with rotator.schedule shows its schedule in
words and the next ${NEXT_TIMES_SHOWN} times in its time zone (--json: RFC 3339 with that zone's offset).
Without SECRET: every secret labelled rotator=managed in the project (and --location).
Exit 0 when all are ok, paused or rotating, 1 when any is failed, overdue or invalid-config, 3 when SECRET is
not found or not managed.`,
    )
    .action(async (secret: string | undefined, opts: { overdueMargin?: string }, cmd: Command) => {
      const ctx = context(cmd);
      exitCode = await runStatus(ctx, secret, overdueMargin(opts.overdueMargin, deps.env));
    });

  program
    .command('history')
    .description(
      "a secret's rotations, newest first: when, versions, outcome, duration, who, retired",
    )
    .argument('<secret>', SECRET_ARGUMENT_HELP)
    .option(
      '--logs <file>',
      "exported Cloud Logging entries (JSON lines or a JSON array): show each rotation's log lines",
    )
    .option('--limit <n>', 'show at most N rotations (and the newest N+1 versions)')
    .option('--all', 'also list destroyed versions')
    .addHelpText(
      'after',
      `\nExport logs with, for example:
  gcloud logging read 'labels.secret="projects/P/secrets/S" OR jsonPayload.secret="projects/P/secrets/S"' \\
    --format=json --freshness=30d > rotations.json`,
    )
    .action(
      async (
        secret: string,
        opts: { logs?: string; limit?: string; all?: boolean },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        exitCode = await runHistory(ctx, secret, {
          all: opts.all === true,
          ...(opts.logs === undefined ? {} : { logs: opts.logs }),
          ...(opts.limit === undefined ? {} : { limit: positiveIntOption('--limit', opts.limit) }),
        });
      },
    );

  program
    .command('rotate')
    .description('request an on-demand rotation (publishes to the secret-events topic)')
    .argument('<secret>', SECRET_ARGUMENT_HELP)
    .option('--reason <text>', 'why (recorded with the rotation, at most 500 characters)')
    .option(
      '--requested-by <who>',
      'who asks, recorded as a claim (not verified) with the rotation (default: the signed-in Google identity, else $USER)',
    )
    .option(
      '--emergency',
      'a leaked credential: rotate now (ignoring the grace window), revoke previous at once and end its sessions; needs --reason',
    )
    .option('--wait', 'follow the rotation to its outcome')
    .option('--timeout <duration>', 'how long --wait waits (e.g. 90s, 5m)', '5m')
    .option(
      '--topic <name>',
      `topic id (in --project, else the secret's project) or full name (default: the topic the secret notifies, else ${DEFAULT_TOPIC})`,
    )
    .addHelpText(
      'after',
      `\nExit 0 when the request was published (with --wait: when the rotation succeeded), 1 when the
rotation failed, 3 when the secret is not found or not managed, 4 when Pub/Sub could not be reached
or --wait timed out (the rotation may still complete: see history).`,
    )
    .action(
      async (
        secret: string,
        opts: {
          reason?: string;
          requestedBy?: string;
          emergency?: boolean;
          wait?: boolean;
          timeout: string;
          topic?: string;
        },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        exitCode = await runRotate(ctx, secret, {
          ...(opts.reason === undefined ? {} : { reason: opts.reason }),
          ...(opts.requestedBy === undefined ? {} : { requestedBy: opts.requestedBy }),
          ...(opts.emergency ? { emergency: true } : {}),
          wait: opts.wait === true,
          timeoutMs: durationOption('--timeout', opts.timeout),
          ...(opts.topic === undefined ? {} : { topic: opts.topic }),
        });
      },
    );

  program
    .command('adopt')
    .description(
      'onboard an existing secret: validate its payload, set label, topic and config, bind the admin secret; dry run unless --apply',
    )
    .argument('<secret>', SECRET_ARGUMENT_HELP)
    .requiredOption('--engine <engine>', 'postgres, mysql or mariadb')
    .requiredOption('--strategy <strategy>', 'single-user, alternating-users or dual-password')
    .requiredOption(
      '--admin-secret <secret>',
      "the admin credential's secret (id or full name), or 'self' (single-user only)",
    )
    .option('--host <host>', 'only to convert a plain-password payload: the server')
    .option('--port <port>', 'only to convert a plain-password payload: the port')
    .option('--database <name>', 'only to convert a plain-password payload: the database')
    .option('--username <login>', 'only to convert a plain-password payload: the login')
    .option(
      '--topic <name>',
      "the deployment's secret-events topic, id or full name (default: the one the project's managed secrets notify)",
    )
    .option('--apply', 'write the changes (without it: a dry run that writes nothing)')
    .addHelpText(
      'after',
      `
Dry run by default: prints every change, then the check report as the secret would read after
--apply. --apply: a plain-password payload becomes a NEW JSON version (the old version is kept
as it is; only with --host, --database and --username), current points at the payload, the
rotator=managed label, the topic and the rotator.engine/strategy/admin-secret annotations are set
(one write with the secret's etag), and the admin secret's rotator.serves lists this secret's
logins when you may write it (else the gcloud line its owner runs is printed). Nothing is
created or changed in the database. Other settings (grace period, schedule, consumers): gcloud
secrets update --update-annotations, or terraform.
With terraform instead: add the secret to the module's managed_secrets and import it:
  terraform import 'module.gsm_rotator.google_secret_manager_secret.managed["NAME"]' projects/P/secrets/S
Exit 0 when every check passes, 1 when a check fails or the payload cannot be adopted, 2 for a bad
option, 3 when the secret or the admin secret is not found.`,
    )
    .action(
      async (
        secret: string,
        opts: {
          engine: string;
          strategy: string;
          adminSecret: string;
          host?: string;
          port?: string;
          database?: string;
          username?: string;
          topic?: string;
          apply?: boolean;
        },
        cmd: Command,
      ) => {
        const { apply, ...rest } = opts;
        exitCode = await runAdopt(context(cmd), secret, {
          ...rest,
          apply: apply === true,
          maxPauseAgeMs: maxPauseAge(undefined, deps.env),
        });
      },
    );

  program
    .command('rollback')
    .description(
      'make current (and latest) the previous credential again, while it still logs in; refresh consumers; pause the schedule',
    )
    .argument('<secret>', SECRET_ARGUMENT_HELP)
    .requiredOption(
      '--reason <text>',
      'why (recorded in the history and the pause, at most 500 characters)',
    )
    .option(
      '--requested-by <who>',
      'who asks, recorded as a claim (not verified) (default: the signed-in Google identity, else $USER)',
    )
    .option(
      '--topic <name>',
      "the deployment's rotation-events topic, full name (default: derived from the secret-events topic the secret notifies)",
    )
    .addHelpText(
      'after',
      `
Only alternating-users and dual-password, before retirement revokes the previous credential. A real
login with it comes first; then it is added as a new version (current = latest = that version),
the rolled-back credential becomes previous (revoked by retirement after its grace period),
consumers are refreshed through rotation-events, scheduled rotations are paused (resume to end it)
and the history records it. Needs, besides the CLI's roles: secretAccessor on the secret and its
admin secret, secretVersionAdder and secrets.update on the secret, publisher on rotation-events.
Exit 0 when rolled back, 3 when the secret is not found or not managed, 4 when a rotation or
retirement holds the secret or the refresh could not be announced, 5 when refused (single-user,
previous retired, its login rejected, or it lacks a privilege the rolled-back login was granted).`,
    )
    .action(
      async (
        secret: string,
        opts: { reason: string; requestedBy?: string; topic?: string },
        cmd: Command,
      ) => {
        exitCode = await runRollback(context(cmd), secret, {
          reason: opts.reason,
          ...(opts.requestedBy === undefined ? {} : { requestedBy: opts.requestedBy }),
          ...(opts.topic === undefined ? {} : { topic: opts.topic }),
        });
      },
    );

  program
    .command('check')
    .description(
      'validate config, payload, admin secret, database logins and Databricks consumers; changes nothing',
    )
    .argument('<secret>', SECRET_ARGUMENT_HELP)
    .option(
      '--max-pause-age <duration>',
      `a pause older than this fails the check (default: $${MAX_PAUSE_AGE_VARIABLE} or ${DEFAULT_MAX_PAUSE_AGE})`,
    )
    .addHelpText(
      'after',
      '\nExit 0 when every check passes, 1 when any fails, 3 when the secret is not found or not managed.',
    )
    .action(async (secret: string, opts: { maxPauseAge?: string }, cmd: Command) => {
      exitCode = await runCheck(context(cmd), secret, {
        maxPauseAgeMs: maxPauseAge(opts.maxPauseAge, deps.env),
      });
    });

  program
    .command('pause')
    .description('stop scheduled rotations of a secret until resume (on-demand ones still run)')
    .argument('<secret>', SECRET_ARGUMENT_HELP)
    .requiredOption('--reason <text>', 'why (shown by status, at most 500 characters)')
    .option('--by <who>', 'who pauses (default: $USER); recorded, not verified')
    .addHelpText(
      'after',
      '\nWrites the rotator.pause annotation (needs secretmanager.secrets.update). Exit 0 when the secret\nis paused (also when it already was), 3 when it is not found or not managed.',
    )
    .action(async (secret: string, opts: { reason: string; by?: string }, cmd: Command) => {
      exitCode = await runPause(context(cmd), secret, {
        reason: opts.reason,
        ...(opts.by === undefined ? {} : { by: opts.by }),
      });
    });

  program
    .command('resume')
    .description('let scheduled rotations of a paused secret go on')
    .argument('<secret>', SECRET_ARGUMENT_HELP)
    .action(async (secret: string, _opts: unknown, cmd: Command) => {
      exitCode = await runResume(context(cmd), secret);
    });

  program
    .command('retire')
    .description('preview what the next retire tick would do (only with --dry-run)')
    .argument('[secret]', SECRET_ARGUMENT_HELP)
    .option('--dry-run', 'show the plan; required: this command never retires anything itself')
    .addOption(overdueOption())
    .addHelpText(
      'after',
      '\nExit 0 when nothing is overdue, 1 when a secret is overdue or cannot be planned, 2 without --dry-run.',
    )
    .action(
      async (
        secret: string | undefined,
        opts: { dryRun?: boolean; overdueMargin?: string },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        exitCode = await runRetireDryRun(
          ctx,
          secret,
          opts.dryRun === true,
          overdueMargin(opts.overdueMargin, deps.env),
        );
      },
    );

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed its message (or the help) through configureOutput.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const { exitCode: code, message } = describeFailure(err, deps.env);
    deps.stderr(`error: ${deps.redactor.scrub(message)}\n`);
    return code;
  }
}
