import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { ALIASES, CONFIG_KEYS, MANAGED_LABEL } from '../shared/config/annotations';
import { formatDuration } from '../shared/config/duration';
import { DatabasePayloadSchema } from '../shared/secrets/payload';
import { SERVES_KEY } from '../shared/trust/serves';
import type { LocalDatabase } from './database';
import { DEMO_LOGIN, demoTarget, ensureDemoObjects, ensureLogin } from './demo-database';
import { LocalStackError } from './errors';

export const DEMO_SECRET_ID = 'demo-db';
export const DEMO_ADMIN_SECRET_ID = 'demo-db-admin';
export const DEMO_TOKEN_SECRET_ID = 'demo-databricks-token';
export const DEMO_JOB_ID = 4242;

export interface DemoSeedOptions {
  client: SecretManagerServiceClient;
  projectId: string;
  db: LocalDatabase;
  /** Full name of the topic the demo secret's notifications go to (secret-events). */
  secretEventsTopic: string;
  workspaceUrl: string;
  periodMs: number;
  graceMs: number;
  /** How soon after seeding the first scheduled rotation comes. */
  firstRotationMs: number;
  randomBytes: (n: number) => Buffer;
  now: () => number;
}

export interface DemoSeed {
  /** Full name of the demo's managed secret. */
  secret: string;
  /** False when an earlier run's secret (from the state file) was reused. */
  created: boolean;
  /** The Databricks PAT the fake workspace must accept. */
  databricksToken: string;
}

const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;

const timestamp = (ms: number) => ({
  seconds: Math.floor(ms / 1000),
  nanos: (ms % 1000) * 1_000_000,
});

const codeOf = (err: unknown) => (err as { code?: unknown }).code;

async function getSecret(client: SecretManagerServiceClient, name: string) {
  try {
    const [secret] = await client.getSecret({ name });
    return secret;
  } catch (err) {
    if (codeOf(err) === NOT_FOUND) return undefined;
    throw err;
  }
}

async function readVersion(
  client: SecretManagerServiceClient,
  name: string,
): Promise<string | undefined> {
  try {
    const [res] = await client.accessSecretVersion({ name });
    return Buffer.from(res.payload?.data ?? '').toString('utf8');
  } catch (err) {
    if (codeOf(err) === NOT_FOUND || codeOf(err) === FAILED_PRECONDITION) return undefined;
    throw err;
  }
}

async function addVersion(client: SecretManagerServiceClient, parent: string, text: string) {
  await client.addSecretVersion({ parent, payload: { data: Buffer.from(text, 'utf8') } });
}

/** A plain (unmanaged) secret whose latest version should hold `wanted`; added when it differs. */
async function ensurePlainSecret(
  o: DemoSeedOptions,
  id: string,
  wanted: (existing: string | undefined) => string,
): Promise<string> {
  const name = `projects/${o.projectId}/secrets/${id}`;
  if (!(await getSecret(o.client, name))) {
    await o.client.createSecret({
      parent: `projects/${o.projectId}`,
      secretId: id,
      secret: { replication: { automatic: {} }, labels: { demo: 'gsm-rotator-local' } },
    });
  }
  const existing = await readVersion(o.client, `${name}/versions/latest`);
  const value = wanted(existing);
  if (value !== existing) await addVersion(o.client, name, value);
  return value;
}

function demoAnnotations(o: DemoSeedOptions): Record<string, string> {
  return {
    [CONFIG_KEYS.engine]: o.db.engine,
    [CONFIG_KEYS.strategy]: 'alternating-users',
    [CONFIG_KEYS.adminSecret]: `projects/${o.projectId}/secrets/${DEMO_ADMIN_SECRET_ID}`,
    [CONFIG_KEYS.testQuery]: demoTarget(o.db).testQuery,
    [CONFIG_KEYS.gracePeriod]: formatDuration(o.graceMs),
    [CONFIG_KEYS.retentionVersions]: '6',
    [CONFIG_KEYS.consumers]: JSON.stringify({
      workspace: { host: o.workspaceUrl, auth: { type: 'pat', tokenSecret: DEMO_TOKEN_SECRET_ID } },
      targets: [{ kind: 'job', jobId: DEMO_JOB_ID, mode: 'continuous' }],
    }),
  };
}

const rotationOf = (o: DemoSeedOptions) => ({
  nextRotationTime: timestamp(o.now() + o.firstRotationMs),
  rotationPeriod: { seconds: Math.round(o.periodMs / 1000) },
});

/**
 * Seeds the demo, or brings an earlier run's demo back: the admin secret (this run's admin
 * credential), a Databricks token for the fake workspace, and `demo-db`, an alternating-users
 * managed secret on a short rotation schedule with a continuous job as its consumer. On reuse, the
 * logins of the enabled `current`/`previous` versions are (re)created with their stored passwords
 * (a throwaway PostgreSQL starts empty), and the local wiring (workspace URL, grace, period) is
 * refreshed in the config.
 */
export async function seedDemo(o: DemoSeedOptions): Promise<DemoSeed> {
  const { db } = o;
  const target = demoTarget(db);
  await ensurePlainSecret(o, DEMO_ADMIN_SECRET_ID, (existing) => {
    const wanted = {
      host: db.host,
      port: db.port,
      database: db.database,
      username: db.adminUser,
      password: db.adminPassword,
    };
    try {
      const old = JSON.parse(existing ?? '') as Record<string, unknown>;
      const same = Object.entries(wanted).every(([k, v]) => old[k] === v);
      if (same && existing !== undefined) return existing;
    } catch {
      // Missing or not JSON: write it.
    }
    return JSON.stringify(wanted);
  });
  const databricksToken = await ensurePlainSecret(
    o,
    DEMO_TOKEN_SECRET_ID,
    (existing) => existing ?? `dapi-local-${o.randomBytes(16).toString('hex')}`,
  );

  const name = `projects/${o.projectId}/secrets/${DEMO_SECRET_ID}`;
  await serveDemo(o, name);
  await ensureDemoObjects(db);
  const existing = await getSecret(o.client, name);
  if (!existing) {
    const password = `Demo-${o.randomBytes(18).toString('base64url')}`;
    await ensureLogin(db, DEMO_LOGIN, password);
    await o.client.createSecret({
      parent: `projects/${o.projectId}`,
      secretId: DEMO_SECRET_ID,
      secret: {
        replication: { automatic: {} },
        labels: { [MANAGED_LABEL.key]: MANAGED_LABEL.value, demo: 'gsm-rotator-local' },
        annotations: demoAnnotations(o),
        topics: [{ name: o.secretEventsTopic }],
        rotation: rotationOf(o),
      },
    });
    await addVersion(
      o.client,
      name,
      JSON.stringify({
        host: db.host,
        port: db.port,
        database: target.database,
        username: DEMO_LOGIN,
        password,
      }),
    );
    return { secret: name, created: true, databricksToken };
  }

  await restoreLogins(o, name, existing.versionAliases ?? {});
  await refreshConfig(o, name);
  return { secret: name, created: false, databricksToken };
}

/**
 * The admin secret's owner lets it serve the demo secret's two logins (rotator.serves), as the
 * terraform module does from managed_secrets: without it, the rotator refuses every rotation.
 */
async function serveDemo(o: DemoSeedOptions, managed: string): Promise<void> {
  const admin = `projects/${o.projectId}/secrets/${DEMO_ADMIN_SECRET_ID}`;
  const secret = await getSecret(o.client, admin);
  if (!secret) throw new LocalStackError(`${admin} disappeared while seeding`);
  const serves = JSON.stringify({ [managed]: [DEMO_LOGIN, `${DEMO_LOGIN}_clone`] });
  if (secret.annotations?.[SERVES_KEY] === serves) return;
  await o.client.updateSecret({
    secret: {
      name: admin,
      etag: secret.etag ?? '',
      annotations: { ...secret.annotations, [SERVES_KEY]: serves },
    },
    updateMask: { paths: ['annotations'] },
  });
}

/** Recreate the logins an earlier run left in SM (a throwaway database forgets them). */
async function restoreLogins(
  o: DemoSeedOptions,
  name: string,
  aliases: Record<string, unknown>,
): Promise<void> {
  const [versions] = await o.client.listSecretVersions({ parent: name });
  const enabled = versions
    .filter((v) => v.state === 'ENABLED')
    .map((v) => Number(String(v.name).split('/').pop()));
  const aliased = [aliases[ALIASES.current], aliases[ALIASES.previous]].map(Number);
  const wanted = aliased.filter((v) => enabled.includes(v));
  if (wanted.length === 0 && enabled.length > 0) wanted.push(Math.min(...enabled));
  for (const version of wanted) {
    const text = await readVersion(o.client, `${name}/versions/${version}`);
    const parsed = DatabasePayloadSchema.safeParse(JSON.parse(text ?? 'null'));
    if (!parsed.success) continue;
    const p = parsed.data;
    if (p.host !== o.db.host || p.port !== o.db.port || p.database !== demoTarget(o.db).database) {
      throw new LocalStackError(
        `the demo secret in the state folder names another database (${p.host}:${p.port}/${p.database}); ` +
          'use the same database settings and --port-base as before, or start over with a new --state-dir (or delete it)',
      );
    }
    await ensureLogin(o.db, p.username, p.password);
  }
}

/** The workspace URL changes at every start, grace and period may come from new flags. */
async function refreshConfig(o: DemoSeedOptions, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const secret = await getSecret(o.client, name);
    if (!secret) throw new LocalStackError(`${name} disappeared while seeding`);
    const periodS = Math.round(o.periodMs / 1000);
    const currentPeriod = Number(secret.rotation?.rotationPeriod?.seconds ?? 0);
    const samePeriod = currentPeriod === periodS;
    try {
      await o.client.updateSecret({
        secret: {
          name,
          etag: secret.etag ?? '',
          annotations: { ...(secret.annotations ?? {}), ...demoAnnotations(o) },
          ...(samePeriod ? {} : { rotation: rotationOf(o) }),
        },
        updateMask: { paths: ['annotations', ...(samePeriod ? [] : ['rotation'])] },
      });
      return;
    } catch (err) {
      // The rotator may be writing the secret right now (a rotation that came due while stopped).
      // A stale etag is FAILED_PRECONDITION in Secret Manager.
      if (codeOf(err) !== FAILED_PRECONDITION || attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
