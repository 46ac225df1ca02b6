import { z } from 'zod';
import {
  ALIASES,
  CONFIG_KEYS,
  MANAGED_FILTER,
  MANAGED_LABEL,
} from '../../shared/config/annotations';
import { STRATEGIES, type StrategyName } from '../../shared/config/rotation-config';
import { ENGINE_NAMES, type EngineName } from '../../shared/engines/engine';
import { IDENTIFIER_PATTERN } from '../../shared/engines/identifiers';
import type { Redactor } from '../../shared/logging/redactor';
import { rotationLogins } from '../../shared/rotation/admin';
import { readConfig } from '../../shared/rotation/rotator';
import { PermissionDeniedError } from '../../shared/secrets/errors';
import { DatabasePayloadSchema } from '../../shared/secrets/payload';
import type { SecretSnapshot, SecretStore } from '../../shared/secrets/secret-store';
import { updateWithRetry } from '../../shared/secrets/update-with-retry';
import { projectOf } from '../../shared/trust/scope';
import { readServes, SERVES_KEY, type Serves } from '../../shared/trust/serves';
import { TrustError } from '../../shared/trust/trust-error';
import { formatIssues } from '../../shared/zod-issues';
import type { CommandContext } from '../context';
import { CliError, EXIT, type ExitCode, usageError } from '../exit-codes';
import { findSecret } from '../find-secret';
import { positiveIntOption } from '../option-values';
import { displayName } from '../scope';
import { checksOf, printCheckReport } from './check';

/** The connection fields that turn a plain-password payload into the JSON format. */
export interface ConnectionFlags {
  host?: string;
  port?: string;
  database?: string;
  username?: string;
}

export interface AdoptOptions extends ConnectionFlags {
  engine: string;
  strategy: string;
  adminSecret: string;
  /** The secret-events topic (full name or an id in the secret's project). */
  topic?: string;
  apply: boolean;
  maxPauseAgeMs: number;
}

/** One thing adopt writes (or would write). Never a value: names, numbers and annotation texts. */
export interface AdoptChange {
  kind: 'label' | 'annotation' | 'topic' | 'version' | 'alias' | 'binding';
  target: string;
  from: string | null;
  to: string;
}

const SECRET_EVENTS = 'secret-events';
const TOPIC_ID = /^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/;
const TOPIC_NAME = /^projects\/[^/]+\/topics\/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/;

/** What `--host … --username` give a plain password: the JSON payload's connection fields. */
const ConnectionSchema = z.object({
  host: z.string().min(1).max(255),
  port: z.string().optional(),
  database: z.string().min(1).max(64).regex(IDENTIFIER_PATTERN, 'letters, digits, _ and -'),
  username: z.string().min(1).max(80).regex(IDENTIFIER_PATTERN, 'letters, digits, _ and -'),
});

/**
 * `adopt SECRET`: onboard an existing secret (docs/operations.md, "Onboard an existing secret").
 * Dry run unless `apply`: prints every change it would make, then the `check` report as it would
 * read after them. With `apply`: a plain-password payload becomes a NEW JSON version (the old one
 * untouched) when the connection fields are given, `current` points at the payload, the label,
 * topic and config annotations are set on the secret (one write with its etag), and the admin
 * secret's `rotator.serves` gets this secret's logins when the caller may write it. Nothing is
 * created or changed in the database. Exit: the check's (0 all passed, 1 a check failed).
 */
export async function runAdopt(
  ctx: CommandContext,
  ref: string,
  options: AdoptOptions,
): Promise<ExitCode> {
  const { store } = ctx.deps;
  const engine = enumOption('--engine', options.engine, ENGINE_NAMES);
  const strategy = enumOption('--strategy', options.strategy, STRATEGIES) as StrategyName;
  const connection = connectionFlags(options);
  const snapshot = await findSecret(store, ref, ctx.scope);
  const adminName =
    options.adminSecret === 'self'
      ? 'self'
      : (await findSecret(store, options.adminSecret, ctx.scope)).name;
  const topic = await secretEventsTopic(ctx, snapshot, options.topic);

  // The payload the rotator will rotate from: `current`, or the newest enabled version.
  const versions = await store.listVersions(snapshot.name);
  const version =
    snapshot.aliases[ALIASES.current] ?? versions.find((v) => v.state === 'ENABLED')?.number;
  if (version === undefined) {
    throw new CliError(`${snapshot.name} has no enabled version to adopt`, EXIT.notOk);
  }
  const text = await store.accessVersion(snapshot.name, version);
  const payload = payloadPlan(ctx.deps.redactor, snapshot.name, version, text, engine, connection);

  const annotations = {
    ...snapshot.annotations,
    [CONFIG_KEYS.engine]: engine,
    [CONFIG_KEYS.strategy]: strategy,
    [CONFIG_KEYS.adminSecret]: adminName,
  };
  const existing = snapshot.annotations[CONFIG_KEYS.engine];
  for (const key of [CONFIG_KEYS.engine, CONFIG_KEYS.strategy, CONFIG_KEYS.adminSecret]) {
    const was = snapshot.annotations[key];
    if (existing !== undefined && was !== undefined && was !== annotations[key]) {
      throw new CliError(
        `${snapshot.name} is already managed with ${key}=${was}: adopt does not change a managed secret's config (edit it with gcloud or terraform)`,
        EXIT.notOk,
      );
    }
  }
  // Validate the config the secret will have, as the rotator will read it.
  const planned: SecretSnapshot = {
    ...snapshot,
    labels: { ...snapshot.labels, [MANAGED_LABEL.key]: MANAGED_LABEL.value },
    annotations,
    topics: snapshot.topics.includes(topic) ? snapshot.topics : [...snapshot.topics, topic],
  };
  let config: ReturnType<typeof readConfig>;
  try {
    config = readConfig(planned);
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message : String(err), EXIT.notOk);
  }
  const dbEngine = ctx.deps.engineFor(engine);
  if (strategy === 'dual-password' && !dbEngine.supportsDualPassword) {
    throw usageError(`--strategy dual-password: ${engine} cannot keep two passwords on one login`);
  }
  let logins: string[];
  try {
    logins = rotationLogins(config, payload.username, dbEngine);
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message : String(err), EXIT.notOk);
  }

  const changes: AdoptChange[] = [];
  if (snapshot.labels[MANAGED_LABEL.key] !== MANAGED_LABEL.value) {
    changes.push({
      kind: 'label',
      target: MANAGED_LABEL.key,
      from: snapshot.labels[MANAGED_LABEL.key] ?? null,
      to: MANAGED_LABEL.value,
    });
  }
  for (const key of [CONFIG_KEYS.engine, CONFIG_KEYS.strategy, CONFIG_KEYS.adminSecret]) {
    if (snapshot.annotations[key] !== annotations[key]) {
      changes.push({
        kind: 'annotation',
        target: key,
        from: snapshot.annotations[key] ?? null,
        to: annotations[key] as string,
      });
    }
  }
  if (!snapshot.topics.includes(topic)) {
    changes.push({
      kind: 'topic',
      target: 'topics',
      from: snapshot.topics.length === 0 ? null : snapshot.topics.join(', '),
      to: [...snapshot.topics, topic].join(', '),
    });
  }
  if (payload.converted !== undefined) {
    changes.push({
      kind: 'version',
      target: 'new version',
      from: `version ${version}: a plain password (kept as it is)`,
      to: `JSON: host, ${connection.port === undefined ? '' : 'port, '}database, username, password`,
    });
  }
  const currentTo = payload.converted === undefined ? String(version) : 'the new version';
  if (snapshot.aliases[ALIASES.current] !== version || payload.converted !== undefined) {
    changes.push({
      kind: 'alias',
      target: ALIASES.current,
      from: snapshot.aliases[ALIASES.current]?.toString() ?? null,
      to: currentTo,
    });
  }
  let admin: SecretSnapshot | undefined;
  let serves: Serves = {};
  if (adminName !== 'self') {
    admin = await store.getSecret(adminName);
    serves = currentServes(admin);
    const already = serves[snapshot.name] ?? [];
    if (logins.some((l) => !already.includes(l))) {
      changes.push({
        kind: 'binding',
        target: `${adminName} ${SERVES_KEY}["${snapshot.name}"]`,
        from: already.length === 0 ? null : JSON.stringify(already),
        to: JSON.stringify([...new Set([...already, ...logins])]),
      });
    }
  }

  const notes: string[] = [];
  if (payload.converted !== undefined) {
    notes.push(
      `consumers that read the plain password (latest, or version ${version}) must read the JSON fields from now on: change them before --apply`,
    );
  }
  if (payload.trimmed)
    notes.push(`version ${version} ends with a newline: not part of the password`);

  let bindingWritten = !changes.some((c) => c.kind === 'binding');
  let checked: SecretSnapshot = planned;
  let checkStore = store;
  if (options.apply) {
    let newVersion: number | undefined;
    if (payload.converted !== undefined) {
      newVersion = await store.addVersion(snapshot.name, payload.converted);
    }
    const current = newVersion ?? version;
    if (admin && !bindingWritten) {
      try {
        await updateWithRetry(store, adminName, (fresh) => {
          const now = currentServes(fresh);
          const merged = [...new Set([...(now[snapshot.name] ?? []), ...logins])];
          return {
            annotations: {
              ...fresh.annotations,
              [SERVES_KEY]: JSON.stringify({ ...now, [snapshot.name]: merged }),
            },
          };
        });
        bindingWritten = true;
      } catch (err) {
        if (!(err instanceof PermissionDeniedError)) throw err;
        notes.push(
          `you may not write ${adminName}'s ${SERVES_KEY} (${err.message}): its owner runs\n    ${bindingCommand(adminName, snapshot.name, serves, logins)}`,
        );
      }
    }
    await updateWithRetry(store, snapshot.name, (fresh) => ({
      labels: { ...fresh.labels, [MANAGED_LABEL.key]: MANAGED_LABEL.value },
      annotations: {
        ...fresh.annotations,
        [CONFIG_KEYS.engine]: engine,
        [CONFIG_KEYS.strategy]: strategy,
        [CONFIG_KEYS.adminSecret]: adminName,
      },
      topics: fresh.topics.includes(topic) ? fresh.topics : [...fresh.topics, topic],
      aliases: { ...fresh.aliases, [ALIASES.current]: current },
    }));
    checked = await store.getSecret(snapshot.name);
  } else {
    // The check reads the secret (and the admin secret) as they would be after --apply; a
    // converted payload under the number its new version will get (versions count up from 1).
    const virtualVersion =
      payload.converted === undefined ? version : (versions[0]?.number ?? 0) + 1;
    checked = { ...planned, aliases: { ...planned.aliases, [ALIASES.current]: virtualVersion } };
    const adminAfter =
      admin && !bindingWritten
        ? {
            ...admin,
            annotations: {
              ...admin.annotations,
              [SERVES_KEY]: JSON.stringify({
                ...serves,
                [snapshot.name]: [...new Set([...(serves[snapshot.name] ?? []), ...logins])],
              }),
            },
          }
        : admin;
    checkStore = overlayStore(store, [checked, ...(adminAfter ? [adminAfter] : [])], {
      secret: snapshot.name,
      version: virtualVersion,
      text: payload.converted,
    });
  }
  const results = await checksOf(
    { ...ctx, deps: { ...ctx.deps, store: checkStore } },
    checked,
    options.maxPauseAgeMs,
  );
  const passed = results.every((r) => r.status !== 'fail');

  if (ctx.out.json) {
    ctx.out.document({
      secret: snapshot.name,
      applied: options.apply,
      changes,
      bindingWritten,
      notes,
      check: { ok: passed, checks: results },
    });
  } else {
    const name = displayName(snapshot.name, ctx.scope);
    ctx.out.line(
      options.apply
        ? `adopted ${name}: written`
        : `adopt ${name}: dry run, nothing written (add --apply to write these changes)`,
    );
    if (changes.length === 0) ctx.out.line('  nothing to change: already adopted');
    ctx.out.table(
      changes.map((c) => ({
        kind: c.kind,
        target: c.target,
        change: c.from === null ? `set to ${c.to}` : `${c.from} → ${c.to}`,
      })),
      [
        { key: 'kind', header: 'CHANGE' },
        { key: 'target', header: 'WHAT' },
        { key: 'change', header: options.apply ? 'DONE' : 'WOULD BE' },
      ],
    );
    ctx.out.line('  database: nothing is created or changed (the first rotation does that)');
    for (const n of notes) ctx.out.line(`  note: ${n}`);
    ctx.out.line();
    printCheckReport(
      ctx,
      snapshot.name,
      results,
      options.apply ? '(as adopted)' : '(as it would be after --apply)',
    );
    if (!options.apply) {
      ctx.out.line(
        'with terraform instead: add the secret to the module and `terraform import` it (README.md, "Onboard an existing secret")',
      );
    }
  }
  return passed ? EXIT.ok : EXIT.notOk;
}

function enumOption<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw usageError(`${option}: one of ${allowed.join(', ')}: ${value}`);
  }
  return value as T;
}

/** The connection flags: all of host, database and username (port optional), or none. */
function connectionFlags(options: ConnectionFlags): ConnectionFlags {
  const given = (['host', 'port', 'database', 'username'] as const).filter(
    (k) => options[k] !== undefined,
  );
  if (given.length === 0) return {};
  const parsed = ConnectionSchema.safeParse(options);
  if (!parsed.success) {
    throw usageError(
      `--host, --database and --username (and optionally --port) convert a plain password together: ${formatIssues(parsed.error)}`,
    );
  }
  if (options.port !== undefined) positiveIntOption('--port', options.port);
  return options;
}

interface PayloadPlan {
  username: string;
  /** The JSON text of the new version, when a plain password is converted. */
  converted?: string;
  trimmed?: boolean;
}

/**
 * The payload as the rotator needs it: valid JSON as it is, or a plain password converted with
 * the connection flags (the flags are refused for a JSON payload: it already says where it lives).
 */
function payloadPlan(
  redactor: Redactor,
  secret: string,
  version: number,
  text: string,
  engine: EngineName,
  connection: ConnectionFlags,
): PayloadPlan {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (json !== null && typeof json === 'object') {
    if (connection.host !== undefined) {
      throw usageError(
        `version ${version} of ${secret} is already JSON: --host, --port, --database and --username only convert a plain password`,
      );
    }
    const parsed = DatabasePayloadSchema.safeParse(json);
    if (!parsed.success) {
      throw new CliError(
        `version ${version} of ${secret} is not a valid database payload: ${formatIssues(parsed.error)} (docs/operations.md, "The payload")`,
        EXIT.notOk,
      );
    }
    return { username: parsed.data.username };
  }
  if (connection.host === undefined) {
    throw new CliError(
      `version ${version} of ${secret} is a plain password, not the JSON payload: pass --host, --database and --username (and --port) to convert it into a new version`,
      EXIT.notOk,
    );
  }
  const password = text.replace(/\r?\n$/, '');
  redactor.add(password);
  const converted = DatabasePayloadSchema.safeParse({
    host: connection.host,
    ...(connection.port === undefined ? {} : { port: Number(connection.port) }),
    database: connection.database,
    username: connection.username,
    password,
  });
  if (!converted.success) {
    throw new CliError(
      `cannot convert version ${version} of ${secret} (${engine}): ${formatIssues(converted.error)}`,
      EXIT.notOk,
    );
  }
  return {
    username: converted.data.username,
    converted: JSON.stringify(converted.data),
    trimmed: password !== text,
  };
}

/** The admin secret's bindings; none yet is an empty map, a malformed one is refused. */
function currentServes(admin: SecretSnapshot): Serves {
  if (admin.annotations[SERVES_KEY] === undefined) return {};
  try {
    return readServes(admin.name, admin.annotations);
  } catch (err) {
    if (!(err instanceof TrustError)) throw err;
    throw new CliError(`${err.message}: fix it by hand first`, EXIT.notOk);
  }
}

/** The gcloud line the admin secret's owner runs (`^;^`: the JSON holds commas). */
function bindingCommand(admin: string, secret: string, serves: Serves, logins: string[]): string {
  const merged = { ...serves, [secret]: [...new Set([...(serves[secret] ?? []), ...logins])] };
  return `gcloud secrets update ${admin} --update-annotations='^;^${SERVES_KEY}=${JSON.stringify(merged)}'`;
}

/**
 * The secret-events topic: --topic, else the one other managed secrets of the project notify (the
 * deployment's `PREFIX-secret-events`), when there is exactly one.
 */
async function secretEventsTopic(
  ctx: CommandContext,
  snapshot: SecretSnapshot,
  option: string | undefined,
): Promise<string> {
  const project = projectOf(snapshot.name);
  if (option !== undefined) {
    if (option.startsWith('projects/')) {
      if (!TOPIC_NAME.test(option)) throw usageError(`--topic: not a topic name: ${option}`);
      return option;
    }
    if (!TOPIC_ID.test(option)) throw usageError(`--topic: not a topic id: ${option}`);
    return `projects/${project}/topics/${option}`;
  }
  const managed = await ctx.deps.store.listSecrets(`projects/${project}`, MANAGED_FILTER);
  const topics = new Set(managed.flatMap((s) => s.topics).filter((t) => t.endsWith(SECRET_EVENTS)));
  const [only] = topics;
  if (only === undefined || topics.size > 1) {
    throw usageError(
      `--topic: name the deployment's secret-events topic (${topics.size === 0 ? 'no managed secret of the project notifies one' : `managed secrets notify several: ${[...topics].join(', ')}`})`,
    );
  }
  return only;
}

/**
 * The store as it would read after --apply, for the dry run's check: the given snapshots instead
 * of the real ones, and the converted payload under a version number no real version has. Reads
 * only; a write through it would be a bug, so none is offered.
 */
function overlayStore(
  store: SecretStore,
  snapshots: SecretSnapshot[],
  extra: { secret: string; version: number; text: string | undefined },
): SecretStore {
  return {
    ...store,
    getSecret: async (name) => snapshots.find((s) => s.name === name) ?? store.getSecret(name),
    accessVersion: async (secret, version) =>
      secret === extra.secret && version === extra.version && extra.text !== undefined
        ? extra.text
        : store.accessVersion(secret, version),
    updateSecret: () => Promise.reject(new Error('dry run: nothing is written')),
    addVersion: () => Promise.reject(new Error('dry run: nothing is written')),
  };
}
