import { randomBytes } from 'node:crypto';
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { type TestServerAddress, testDatabasesFromEnv } from '../../devtools/databases';
import {
  adminPayload,
  canLogin,
  createLogin,
  type FixtureEngine,
  type LoginFixture,
  loginPayload,
} from '../../devtools/db-fixtures';
import { type QuotaOptions, startSecretManagerEmulator } from '../../emulator/secret-manager';
import { createStagingSecret } from '../../local/staging-secret';
import type { Clock } from '../../shared/clock';
import { CONFIG_KEYS, MANAGED_LABEL } from '../../shared/config/annotations';
import type { DatabaseEngine, EngineName } from '../../shared/engines/engine';
import { engineFor } from '../../shared/engines/registry';
import { createLogger, memorySink } from '../../shared/logging/logger';
import { Redactor } from '../../shared/logging/redactor';
import type { RotatorDeps } from '../../shared/rotation/context';
import { readHistory, readState } from '../../shared/rotation/state';
import { secretStoreFromEnv } from '../../shared/runtime/deps';
import { buildRotatorDeps } from '../../shared/runtime/rotator-deps';
import { createSecretManagerClient } from '../../shared/secrets/client';
import type { SecretStore } from '../../shared/secrets/secret-store';
import { SERVES_KEY } from '../../shared/trust/serves';

export const PROJECT = 'test-project';

export interface Published {
  topic: string;
  data: Record<string, unknown>;
  attributes: Record<string, string>;
}

export interface ManagedSecret {
  name: string;
  fixture: LoginFixture;
  server: TestServerAddress;
}

export interface HarnessOptions {
  clock?: Clock;
  leaseMs?: number;
  /** Wrap the engines (e.g. to take the database away at a chosen verb). */
  wrapEngine?: (engine: DatabaseEngine) => DatabaseEngine;
  /** Fail publishing while this returns true. */
  publishFails?: () => boolean;
  /** The emulator's clock too (rotation schedules): call `emulator.checkRotations()` after moving it. */
  emulatorClock?: Clock;
  /** Run the emulator in quota mode (RESOURCE_EXHAUSTED over Secret Manager's quotas). */
  quotas?: QuotaOptions;
}

/**
 * The rotation core against real things: the Secret Manager emulator through the official client,
 * the test run's PostgreSQL and MariaDB, in-memory capture of published outcomes and log lines.
 * Every password a test creates or reads is collected, so suites can prove none reached a log.
 */
export async function createRotationHarness(options: HarnessOptions = {}) {
  const emulator = await startSecretManagerEmulator({
    relaxedRotationLimits: true,
    ...(options.emulatorClock ? { clock: options.emulatorClock } : {}),
    ...(options.quotas ? { quotas: options.quotas } : {}),
  });
  const env = { SECRET_MANAGER_EMULATOR_HOST: emulator.address };
  const client: SecretManagerServiceClient = createSecretManagerClient({ env });
  const stagingSecret = await createStagingSecret(client, PROJECT);
  const redactor = new Redactor();
  const sink = memorySink();
  const passwords = new Set<string>();
  // The store and the logger get no shared redactor: the log scan must see a leak, not a mask.
  const store = secretStoreFromEnv(undefined, env);
  const published: Published[] = [];
  // Every credential the rotator adds, per managed secret (staged or promoted, once each): tests
  // read credentials even after the rotator disabled their version, and the log scan knows every
  // password.
  const added = new Map<string, { username: string; password: string }[]>();
  const recordingStore: SecretStore = {
    ...store,
    addVersion: async (secret, data) => {
      // A staged credential is wrapped with the managed secret it belongs to (staging.ts).
      const raw = JSON.parse(data) as {
        username: string;
        password: string;
        owner?: string;
        payload?: { username: string; password: string };
      };
      const [owner, p] = raw.payload && raw.owner ? [raw.owner, raw.payload] : [secret, raw];
      passwords.add(p.password);
      const known = added.get(owner) ?? [];
      if (!known.some((k) => k.password === p.password)) added.set(owner, [...known, p]);
      return store.addVersion(secret, data);
    },
  };
  const databases = testDatabasesFromEnv();
  const adminSecrets = new Map<FixtureEngine, string>();

  const deps: RotatorDeps = buildRotatorDeps(
    {
      store: recordingStore,
      publish: async (topic, data, attributes) => {
        if (options.publishFails?.()) throw new Error('publish failed (injected)');
        published.push({ topic, data: JSON.parse(data), attributes });
      },
      logger: createLogger({ sink, redactor: new Redactor(), minSeverity: 'DEBUG' }),
      redactor,
      settings: {
        rotationEventsTopic: `projects/${PROJECT}/topics/rotation-events`,
        leaseMs: options.leaseMs ?? 60_000,
        testAttempts: 2,
        testRetryDelayMs: 50,
        // Tests use grace windows of seconds; deployments keep the floor (rotation-config.ts).
        minGracePeriodMs: 0,
        scope: { projects: [PROJECT] },
        stagingSecrets: [stagingSecret],
      },
    },
    {
      engineFor: (name: EngineName) => (options.wrapEngine ?? ((e) => e))(engineFor(name)),
      ...(options.clock ? { clock: options.clock } : {}),
    },
  );

  const serverFor = (engine: FixtureEngine) =>
    engine === 'postgres' ? databases.postgres : databases.mariadb;

  async function addVersion(secret: string, payload: unknown): Promise<number> {
    const [v] = await client.addSecretVersion({
      parent: secret,
      payload: { data: Buffer.from(JSON.stringify(payload)) },
    });
    return Number(String(v.name).split('/').pop());
  }

  async function adminSecretFor(engine: FixtureEngine): Promise<string> {
    const existing = adminSecrets.get(engine);
    if (existing) return existing;
    const id = `admin-${engine}`;
    const name = `projects/${PROJECT}/secrets/${id}`;
    await client.createSecret({
      parent: `projects/${PROJECT}`,
      secretId: id,
      secret: { replication: { automatic: {} } },
    });
    await addVersion(name, adminPayload(engine, serverFor(engine)));
    adminSecrets.set(engine, name);
    return name;
  }

  // One binding update at a time: tests create secrets concurrently, and each update rewrites the
  // whole rotator.serves annotation of the admin secret.
  let serving: Promise<unknown> = Promise.resolve();

  /**
   * Let `adminSecret` serve `secret` for `logins`, as its owner would (rotator.serves; every
   * secret the harness creates gets this, so every test runs with the trust binding).
   */
  function serve(adminSecret: string, secret: string, logins: readonly string[]): Promise<void> {
    const next = serving.then(async () => {
      const [s] = await client.getSecret({ name: adminSecret });
      const annotations = { ...(s.annotations ?? {}) } as Record<string, string>;
      const serves = JSON.parse(annotations[SERVES_KEY] ?? '{}') as Record<string, string[]>;
      serves[secret] = [...new Set([...(serves[secret] ?? []), ...logins])];
      annotations[SERVES_KEY] = JSON.stringify(serves);
      await client.updateSecret({
        secret: { name: adminSecret, annotations, etag: s.etag },
        updateMask: { paths: ['annotations'] },
      });
    });
    serving = next.catch(() => undefined);
    return next;
  }

  async function createManagedSecret(opts: {
    engine: FixtureEngine;
    strategy: 'single-user' | 'alternating-users' | 'dual-password';
    self?: boolean;
    annotations?: Record<string, string>;
    /** A regional secret in this location (projects/P/locations/L/secrets/S). */
    location?: string;
  }): Promise<ManagedSecret> {
    const id = `${opts.engine === 'postgres' ? 'p' : 'm'}${randomBytes(4).toString('hex')}`;
    const server = serverFor(opts.engine);
    const fixture = await createLogin(opts.engine, server, id);
    passwords.add(fixture.password);
    const parent = opts.location
      ? `projects/${PROJECT}/locations/${opts.location}`
      : `projects/${PROJECT}`;
    const name = `${parent}/secrets/db-${id}`;
    await client.createSecret({
      parent,
      secretId: `db-${id}`,
      secret: {
        ...(opts.location ? {} : { replication: { automatic: {} } }),
        labels: { [MANAGED_LABEL.key]: MANAGED_LABEL.value },
        annotations: {
          [CONFIG_KEYS.engine]: opts.engine,
          [CONFIG_KEYS.strategy]: opts.strategy,
          [CONFIG_KEYS.adminSecret]: opts.self ? 'self' : await adminSecretFor(opts.engine),
          [CONFIG_KEYS.testQuery]: `SELECT count(*) FROM ${fixture.table}`,
          [CONFIG_KEYS.gracePeriod]: '1h',
          ...opts.annotations,
        },
      },
    });
    await addVersion(name, loginPayload(fixture));
    // The admin secret it uses (the harness's, or one a test names) serves it, unless a test
    // names one that does not exist.
    const admin = opts.self
      ? undefined
      : (opts.annotations?.[CONFIG_KEYS.adminSecret] ?? (await adminSecretFor(opts.engine)));
    if (admin && admin !== 'self') {
      await serve(
        admin,
        name,
        servedLogins(opts.strategy, fixture.username, opts.annotations),
      ).catch((err: { code?: number }) => {
        if (err.code !== 5) throw err;
      });
    }
    return { name, fixture, server };
  }

  /** Read a version's credential and check, with a real login, whether the database takes it. */
  async function versionLogsIn(secret: ManagedSecret, version: number): Promise<boolean> {
    const [res] = await client.accessSecretVersion({ name: `${secret.name}/versions/${version}` });
    const p = JSON.parse(Buffer.from(res.payload?.data ?? '').toString()) as {
      username: string;
      password: string;
    };
    passwords.add(p.password);
    return canLogin(
      secret.fixture.engine,
      secret.server,
      secret.fixture.database,
      p.username,
      p.password,
    );
  }

  async function snapshot(secret: ManagedSecret) {
    const s = await store.getSecret(secret.name);
    const versions = await store.listVersions(secret.name);
    for (const v of versions) {
      if (v.state !== 'ENABLED') continue;
      const data = await store.accessVersion(secret.name, v.number);
      passwords.add((JSON.parse(data) as { password: string }).password);
    }
    return {
      secret: s,
      versions,
      state: readState(s.annotations),
      history: readHistory(s.annotations),
    };
  }

  /** Fail if any password this harness ever saw appears in the captured log lines. */
  function assertNoPasswordInLogs(extraLines: string[] = []): void {
    const text = [...sink.lines, ...extraLines].join('\n');
    const leaked = [...passwords].filter((p) => text.includes(p));
    if (leaked.length > 0) throw new Error(`${leaked.length} password(s) found in log output`);
  }

  /**
   * The staged credentials (shared/rotation/staging.ts) that belong to `secret`, with their
   * state: a test proves none was added twice and none outlived its rotation.
   */
  const stagedOwners = new Map<number, string>();
  async function stagedFor(secret: ManagedSecret) {
    const out: {
      version: number;
      state: string;
      rotationId?: string;
      credential?: { username: string; password: string };
    }[] = [];
    for (const v of await store.listVersions(stagingSecret)) {
      if (v.state !== 'ENABLED') {
        if (stagedOwners.get(v.number) === secret.name)
          out.push({ version: v.number, state: v.state });
        continue;
      }
      const w = JSON.parse(await store.accessVersion(stagingSecret, v.number)) as {
        owner: string;
        rotationId: string;
        payload: { username: string; password: string };
      };
      passwords.add(w.payload.password);
      stagedOwners.set(v.number, w.owner);
      if (w.owner === secret.name) {
        out.push({
          version: v.number,
          state: v.state,
          rotationId: w.rotationId,
          credential: { username: w.payload.username, password: w.payload.password },
        });
      }
    }
    return out;
  }

  return {
    emulator,
    env,
    /** The deployment's staging secret (ROTATOR_STAGING_SECRET). */
    stagingSecret,
    stagedFor,
    client,
    store,
    deps,
    sink,
    published,
    passwords,
    databases,
    /** The credentials the rotator generated for a secret (staged or promoted), in order. */
    addedCredentials: (secret: ManagedSecret) => added.get(secret.name) ?? [],
    createManagedSecret,
    adminSecretFor,
    serve,
    addVersion,
    versionLogsIn,
    snapshot,
    assertNoPasswordInLogs,
    async stop() {
      await store.close();
      await client.close();
      await emulator.stop();
    },
  };
}

/** The logins a managed secret's rotations change: its login, and the pair's other login. */
export function servedLogins(
  strategy: string,
  login: string,
  annotations: Record<string, string> = {},
): string[] {
  if (strategy !== 'alternating-users') return [login];
  const pair = annotations[CONFIG_KEYS.loginPair];
  return pair ? pair.split(',') : [login, `${login}_clone`];
}

export type RotationHarness = Awaited<ReturnType<typeof createRotationHarness>>;

export { canLogin };
