import { ALIASES, CONFIG_KEYS } from '../../shared/config/annotations';
import { formatDuration } from '../../shared/config/duration';
import type { RotationConfig } from '../../shared/config/rotation-config';
import {
  type ConsumerTarget,
  DatabricksConsumersSchema,
  targetId,
} from '../../shared/consumers/targets';
import type { DatabricksClient } from '../../shared/databricks/client';
import { DatabricksError } from '../../shared/databricks/databricks-error';
import type { Credential, DatabaseEngine, Endpoint } from '../../shared/engines/engine';
import { describeError } from '../../shared/errors';
import { adminCredential, rotationLogins } from '../../shared/rotation/admin';
import { describeSchedule } from '../../shared/schedule/describe';
import { readPause } from '../../shared/schedule/pause';
import {
  credentialOf,
  type DatabasePayload,
  DatabasePayloadSchema,
  endpointOf,
} from '../../shared/secrets/payload';
import type { SecretSnapshot } from '../../shared/secrets/secret-store';
import { assertServes, SERVES_KEY } from '../../shared/trust/serves';
import { TrustError } from '../../shared/trust/trust-error';
import { formatIssues } from '../../shared/zod-issues';
import type { CommandContext } from '../context';
import { EXIT, type ExitCode, notFoundError } from '../exit-codes';
import { findSecret, tryConfig } from '../find-secret';
import { formatElapsed } from '../output';
import { displayName } from '../scope';

export const CHECK_STATUSES = ['ok', 'fail', 'skip'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
}

const projectOf = (secret: string) => secret.split('/')[1] ?? '';

const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
const fail = (name: string, detail: string): CheckResult => ({ name, status: 'fail', detail });
const skip = (name: string, detail: string): CheckResult => ({ name, status: 'skip', detail });

/**
 * `check SECRET`: is this secret ready to rotate? Config, the current payload, the admin secret,
 * real logins (admin and current credential, with the test query), and that every Databricks
 * consumer target exists. Read-only: logins and GETs, nothing written anywhere.
 */
export async function runCheck(
  ctx: CommandContext,
  ref: string,
  options: { maxPauseAgeMs: number },
): Promise<ExitCode> {
  const snapshot = await findSecret(ctx.deps.store, ref, ctx.scope);
  // The same test readConfig makes: without an engine the secret is simply not ours (exit 3);
  // a managed secret with a broken config is a failing check (exit 1).
  if (snapshot.annotations[CONFIG_KEYS.engine] === undefined) {
    throw notFoundError(
      `secret ${snapshot.name} is not managed by gsm-rotator (no ${CONFIG_KEYS.engine})`,
    );
  }
  const results = await checksOf(ctx, snapshot, options.maxPauseAgeMs);
  const passed = results.every((r) => r.status !== 'fail');
  if (ctx.out.json) {
    ctx.out.document({ secret: snapshot.name, ok: passed, checks: results });
  } else {
    printCheckReport(ctx, snapshot.name, results, '(nothing is changed)');
  }
  return passed ? EXIT.ok : EXIT.notOk;
}

/** The check report as a table, with the count of failures. */
export function printCheckReport(
  ctx: CommandContext,
  secret: string,
  results: CheckResult[],
  note: string,
): void {
  ctx.out.line(`checking ${displayName(secret, ctx.scope)} ${note}`);
  ctx.out.table(
    results.map((r) => ({
      status: r.status === 'fail' ? 'FAIL' : r.status,
      name: r.name,
      detail: r.detail,
    })),
    [
      { key: 'status', header: 'RESULT' },
      { key: 'name', header: 'CHECK' },
      { key: 'detail', header: 'DETAIL' },
    ],
  );
  const failed = results.filter((r) => r.status === 'fail').length;
  ctx.out.line(failed === 0 ? 'all checks passed' : `${failed} check(s) failed`);
}

/** The checks of `check`, for a secret already read (adopt runs them on what it would write). */
export async function checksOf(
  ctx: CommandContext,
  snapshot: SecretSnapshot,
  maxPauseAgeMs: number,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const { config, problem } = tryConfig(snapshot);
  if (!config) return [fail('config', problem), skip('the rest', 'needs a valid config')];
  results.push(
    ok(
      'config',
      `${config.engine}, ${config.strategy}, admin ${config.adminSecret}, grace ${formatDuration(config.gracePeriodMs)}`,
    ),
  );

  const payload = await currentPayload(ctx, snapshot);
  results.push(payload.result);
  if (payload.value) {
    results.push(...(await databaseChecks(ctx, snapshot, config, payload.value)));
  } else {
    results.push(skip('database', 'needs a valid current payload'));
  }
  results.push(...(await consumerChecks(ctx, snapshot, config)));
  results.push(...scheduleChecks(snapshot, config, ctx.deps.clock.now(), maxPauseAgeMs));
  return results;
}

/** The cron schedule against Secret Manager's own, and a pause that has lasted too long. */
export function scheduleChecks(
  snapshot: SecretSnapshot,
  config: RotationConfig,
  now: number,
  maxPauseAgeMs: number,
): CheckResult[] {
  const results: CheckResult[] = [];
  if (config.schedule) {
    const words = describeSchedule(config.schedule);
    results.push(
      snapshot.rotation?.periodMs === undefined
        ? ok('schedule', words)
        : fail(
            'schedule',
            `${words}; but the secret also has a rotation period of ${formatDuration(snapshot.rotation.periodMs)}: remove it (the rotator drops it on its next write of next_rotation_time)`,
          ),
    );
  }
  const pause = readPause(snapshot.annotations);
  if (pause) {
    const age = now - pause.at;
    const what = `paused by ${pause.by} since ${new Date(pause.at).toISOString()} (${formatElapsed(age)} ago): ${pause.reason}`;
    results.push(
      age > maxPauseAgeMs
        ? fail(
            'pause',
            `${what}; longer than ${formatDuration(maxPauseAgeMs)}: resume it or rotate it on demand`,
          )
        : ok('pause', what),
    );
  }
  return results;
}

async function currentPayload(
  ctx: CommandContext,
  snapshot: SecretSnapshot,
): Promise<{ result: CheckResult; value?: DatabasePayload }> {
  const { store } = ctx.deps;
  const name = 'current payload';
  try {
    // As the rotator does: `current`, or the newest enabled version of a never-rotated secret.
    const version =
      snapshot.aliases[ALIASES.current] ??
      (await store.listVersions(snapshot.name)).find((v) => v.state === 'ENABLED')?.number;
    if (version === undefined) return { result: fail(name, 'no enabled version') };
    let json: unknown;
    try {
      json = JSON.parse(await store.accessVersion(snapshot.name, version));
    } catch (err) {
      if (err instanceof SyntaxError)
        return { result: fail(name, `version ${version} is not JSON`) };
      throw err;
    }
    const parsed = DatabasePayloadSchema.safeParse(json);
    if (!parsed.success) {
      // Paths and rules only: zod's messages do not echo the value.
      return { result: fail(name, `version ${version}: ${formatIssues(parsed.error)}`) };
    }
    const p = parsed.data;
    const where = p.cloudSqlInstance ?? `${p.host}${p.port === undefined ? '' : `:${p.port}`}`;
    return {
      result: ok(name, `version ${version}: ${p.username} on ${where}/${p.database}`),
      value: p,
    };
  } catch (err) {
    return { result: fail(name, describeError(err).message) };
  }
}

async function login(
  engine: DatabaseEngine,
  name: string,
  endpoint: Endpoint,
  credential: Credential,
  testQuery: string | undefined,
  success: string,
): Promise<CheckResult> {
  try {
    const answer = await engine.tryLogin(endpoint, credential, testQuery);
    return answer.ok ? ok(name, success) : fail(name, `the server rejected ${credential.username}`);
  } catch (err) {
    return fail(name, describeError(err).message);
  }
}

/**
 * Whether the admin secret's `rotator.serves` lets it serve this secret for every login a
 * rotation changes; on failure, says exactly what its owner would add.
 */
async function bindingCheck(
  ctx: CommandContext,
  secret: string,
  adminSecret: string,
  logins: readonly string[],
): Promise<CheckResult> {
  const name = 'admin serves';
  try {
    const admin = await ctx.deps.store.getSecret(adminSecret);
    assertServes(adminSecret, admin.annotations, secret, logins);
    return ok(name, `${adminSecret} serves ${secret} for ${logins.join(', ')}`);
  } catch (err) {
    const hint =
      err instanceof TrustError
        ? `; its owner adds "${secret}": ${JSON.stringify(logins)} to ${SERVES_KEY}`
        : '';
    return fail(name, `${describeError(err).message}${hint}`);
  }
}

async function databaseChecks(
  ctx: CommandContext,
  snapshot: SecretSnapshot,
  config: RotationConfig,
  payload: DatabasePayload,
): Promise<CheckResult[]> {
  const engine = ctx.deps.engineFor(config.engine);
  const endpoint = endpointOf(payload);
  const results: CheckResult[] = [];
  if (config.adminSecret === 'self') {
    results.push(
      skip('admin serves', "'self': no admin secret, the login changes its own password"),
    );
    results.push(skip('admin secret', "'self': the login changes its own password"));
  } else {
    let logins: string[] = [payload.username];
    try {
      logins = rotationLogins(config, payload.username, engine);
      results.push(await bindingCheck(ctx, snapshot.name, config.adminSecret, logins));
    } catch (err) {
      results.push(fail('admin serves', describeError(err).message));
    }
    try {
      const admin = await adminCredential(ctx.deps.store, config.adminSecret, payload, {
        secret: snapshot.name,
        engine: config.engine,
        logins,
      });
      results.push(ok('admin secret', `${config.adminSecret}: readable, same server`));
      results.push(
        await login(engine, 'admin login', endpoint, admin, undefined, `${admin.username} logs in`),
      );
      if (config.strategy === 'dual-password') {
        // The same reason the first rotation would refuse with, before it changes anything.
        const blocker = await engine
          .withSession(endpoint, admin, (s) => s.dualPasswordBlocker(payload.username))
          .catch((err: unknown) => describeError(err).message);
        results.push(
          blocker === undefined
            ? ok('dual password', `${payload.username} can hold two passwords`)
            : fail('dual password', blocker),
        );
      }
    } catch (err) {
      results.push(fail('admin secret', describeError(err).message));
      results.push(skip('admin login', 'needs a usable admin secret'));
    }
  }
  results.push(
    await login(
      engine,
      'current login',
      endpoint,
      credentialOf(payload),
      config.testQuery,
      `${payload.username} logs in${config.testQuery ? ' and the test query runs' : ''}`,
    ),
  );
  return results;
}

async function consumerChecks(
  ctx: CommandContext,
  snapshot: SecretSnapshot,
  config: RotationConfig,
): Promise<CheckResult[]> {
  if (config.consumers === undefined)
    return [skip('consumers', 'no Databricks consumers configured')];
  const parsed = DatabricksConsumersSchema.safeParse(config.consumers);
  if (!parsed.success) {
    return [fail('consumers', `${CONFIG_KEYS.consumers}: ${formatIssues(parsed.error)}`)];
  }
  // Short secret ids in the workspace auth are read where the functions read them: the secret's
  // own project.
  const client = ctx.deps.databricksClientFor(parsed.data.workspace, projectOf(snapshot.name));
  const results: CheckResult[] = [];
  for (const target of parsed.data.targets) results.push(await targetCheck(client, target));
  return results;
}

async function targetCheck(client: DatabricksClient, target: ConsumerTarget): Promise<CheckResult> {
  const name = `consumer ${targetId(target)}`;
  try {
    switch (target.kind) {
      case 'job': {
        const job = await client.getJob(target.jobId);
        return ok(
          name,
          `job ${job.job_id}${job.settings?.name ? ` "${job.settings.name}"` : ''} exists`,
        );
      }
      case 'pipeline': {
        const p = await client.getPipeline(target.pipelineId);
        return ok(name, `pipeline exists${p.state ? ` (${p.state})` : ''}`);
      }
      case 'cluster': {
        const c = await client.getCluster(target.clusterId);
        return ok(name, `cluster exists (${c.state})`);
      }
      case 'uc-connection': {
        const c = await client.getConnection(target.name);
        return ok(name, `connection exists${c.connection_type ? ` (${c.connection_type})` : ''}`);
      }
      case 'secret-scope':
        // Databricks has no read of a secret value and no get for one scope; `put` would write.
        return skip(name, 'secret scopes cannot be checked without writing');
    }
  } catch (err) {
    if (err instanceof DatabricksError && err.notFound) return fail(name, 'does not exist');
    return fail(name, describeError(err).message);
  }
}
