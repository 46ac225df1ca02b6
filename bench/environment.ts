import { randomBytes } from 'node:crypto';
import { PubSub } from '@google-cloud/pubsub';
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import {
  adminPayload,
  createLogin,
  type FixtureEngine,
  type LoginFixture,
  loginPayload,
} from '../devtools/db-fixtures';
import { onDemandRequest, pubsubCloudEvent } from '../devtools/events';
import { type MariadbServer, startMariadb } from '../devtools/mariadb-server';
import { type PostgresServer, startPostgres } from '../devtools/postgres-server';
import { type PubSubHandle, startPubSub } from '../emulator/pubsub/start';
import { type SecretManagerEmulator, startSecretManagerEmulator } from '../emulator/secret-manager';
import { makeRotateSecret } from '../functions/rotate-secret';
import { createStagingSecret } from '../local/staging-secret';
import { CONFIG_KEYS, MANAGED_LABEL } from '../shared/config/annotations';
import type { StrategyName } from '../shared/config/rotation-config';
import { createLogger } from '../shared/logging/logger';
import { Redactor } from '../shared/logging/redactor';
import { createPubSubPublish } from '../shared/messaging/publisher';
import { retireSecret } from '../shared/retirement/retire-secret';
import type { RotatorDeps } from '../shared/rotation/context';
import { secretStoreFromEnv } from '../shared/runtime/deps';
import { buildRotatorDeps } from '../shared/runtime/rotator-deps';
import { createSecretManagerClient } from '../shared/secrets/client';
import type { SecretStore } from '../shared/secrets/secret-store';
import { SERVES_KEY } from '../shared/trust/serves';

export const PROJECT = 'bench-project';
export const ROTATION_EVENTS = `projects/${PROJECT}/topics/rotation-events`;
const SECRET_EVENTS = `projects/${PROJECT}/topics/secret-events`;

export interface BenchSecret {
  name: string;
  engine: FixtureEngine;
  strategy: StrategyName;
  fixture: LoginFixture;
}

/**
 * What every measurement runs against, started once: a throwaway PostgreSQL (scram-sha-256), the
 * Secret Manager emulator through the official client, Pub/Sub (the official emulator when
 * installed), and the real rotation code with production-shaped dependencies. MariaDB starts on
 * first use (only the zero-downtime runs need it).
 */
export interface BenchEnvironment {
  postgres: PostgresServer;
  mariadb(): Promise<MariadbServer>;
  sm: SecretManagerEmulator;
  pubsub: PubSubHandle;
  client: SecretManagerServiceClient;
  store: SecretStore;
  deps: RotatorDeps;
  /** The deployed rotateSecret handler (functions/rotate-secret.ts) with `deps`. */
  rotateSecret: (event: unknown) => Promise<void>;
  createManagedSecret(
    engine: FixtureEngine,
    strategy: StrategyName,
    annotations?: Record<string, string>,
  ): Promise<BenchSecret>;
  /** An on-demand rotation request as Eventarc delivers it. */
  rotationEvent(secret: string): Record<string, unknown>;
  /**
   * Retire `previous` as the retire tick would once the grace window (1 h) is over: the tick's
   * clock runs `aheadMs` ahead. Rotations of one alternating-users or dual-password secret back to
   * back wait for the grace rule otherwise (invariant 4).
   */
  retireNow(secret: string, aheadMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The emulator runs in quota mode (production's figures, a real minute) but with the quotas
 * paused: only the fleet-under-quota run turns them on (`sm.setQuotasEnabled(true)`).
 */
export async function startBenchEnvironment(): Promise<BenchEnvironment> {
  const [postgres, pubsub] = await Promise.all([startPostgres(), startPubSub()]);
  let maria: Promise<MariadbServer> | undefined;
  const sm = await startSecretManagerEmulator({ quotas: true });
  sm.setQuotasEnabled(false);
  const env = { SECRET_MANAGER_EMULATOR_HOST: sm.address };
  const client = createSecretManagerClient({ env });
  const store = secretStoreFromEnv(undefined, env);
  const stagingSecret = await createStagingSecret(client, PROJECT);
  const pubsubClient = new PubSub({
    projectId: PROJECT,
    apiEndpoint: pubsub.host,
    emulatorMode: true,
    universeDomain: 'googleapis.com',
  });
  for (const topic of [ROTATION_EVENTS, SECRET_EVENTS]) await pubsubClient.createTopic(topic);

  const redactor = new Redactor();
  // Production logs every line to stdout at INFO; the bench pays the same serialisation, then
  // drops the line.
  const logger = createLogger({ redactor, minSeverity: 'INFO', sink: { write: () => {} } });
  const deps: RotatorDeps = buildRotatorDeps({
    store,
    publish: createPubSubPublish({ projectId: PROJECT, pubsub: pubsubClient }),
    logger,
    redactor,
    settings: {
      rotationEventsTopic: ROTATION_EVENTS,
      leaseMs: 600_000,
      testAttempts: 3,
      testRetryDelayMs: 1000,
      scope: { projects: [PROJECT] },
      stagingSecrets: [stagingSecret],
    },
  });
  const adminSecrets = new Map<string, Promise<string>>();
  const addVersion = (parent: string, payload: unknown) =>
    client.addSecretVersion({ parent, payload: { data: Buffer.from(JSON.stringify(payload)) } });

  const mariadb = () => {
    maria ??= startMariadb();
    return maria;
  };
  const serverFor = async (engine: FixtureEngine) =>
    engine === 'postgres' ? postgres : await mariadb();

  /**
   * An admin secret per engine and per ADMIN_SHARE managed secrets: its `rotator.serves`
   * annotation lists every secret it serves, and Secret Manager caps a Secret's annotations at
   * 16 KiB (about 200 entries), so a fleet of hundreds needs several, as a real one would.
   */
  const ADMIN_SHARE = 100;
  const served = new Map<FixtureEngine, number>();
  function adminSecretFor(engine: FixtureEngine): Promise<string> {
    const n = served.get(engine) ?? 0;
    served.set(engine, n + 1);
    const id = `admin-${engine}-${Math.floor(n / ADMIN_SHARE)}`;
    let existing = adminSecrets.get(id);
    if (!existing) {
      existing = (async () => {
        const name = `projects/${PROJECT}/secrets/${id}`;
        await client.createSecret({
          parent: `projects/${PROJECT}`,
          secretId: id,
          secret: { replication: { automatic: {} } },
        });
        await addVersion(name, adminPayload(engine, await serverFor(engine)));
        return name;
      })();
      adminSecrets.set(id, existing);
    }
    return existing;
  }

  // The admin secret's owner lets it serve each managed secret (rotator.serves), one update at a
  // time because each rewrites the whole annotation.
  let serving: Promise<unknown> = Promise.resolve();
  function serve(adminSecret: string, secret: string, logins: string[]): Promise<void> {
    const next = serving.then(async () => {
      const [s] = await client.getSecret({ name: adminSecret });
      const annotations = { ...(s.annotations ?? {}) } as Record<string, string>;
      const serves = JSON.parse(annotations[SERVES_KEY] ?? '{}') as Record<string, string[]>;
      serves[secret] = logins;
      annotations[SERVES_KEY] = JSON.stringify(serves);
      await client.updateSecret({
        secret: { name: adminSecret, annotations, etag: s.etag },
        updateMask: { paths: ['annotations'] },
      });
    });
    serving = next.catch(() => undefined);
    return next;
  }

  return {
    postgres,
    mariadb,
    sm,
    pubsub,
    client,
    store,
    deps,
    rotateSecret: makeRotateSecret(() => deps),
    async createManagedSecret(engine, strategy, annotations = {}) {
      const id = `${engine === 'postgres' ? 'p' : 'm'}${randomBytes(4).toString('hex')}`;
      const fixture = await createLogin(engine, await serverFor(engine), id);
      const name = `projects/${PROJECT}/secrets/db-${id}`;
      const admin = await adminSecretFor(engine);
      await client.createSecret({
        parent: `projects/${PROJECT}`,
        secretId: `db-${id}`,
        secret: {
          replication: { automatic: {} },
          labels: { [MANAGED_LABEL.key]: MANAGED_LABEL.value },
          annotations: {
            [CONFIG_KEYS.engine]: engine,
            [CONFIG_KEYS.strategy]: strategy,
            [CONFIG_KEYS.adminSecret]: admin,
            [CONFIG_KEYS.testQuery]: `SELECT count(*) FROM ${fixture.table}`,
            [CONFIG_KEYS.gracePeriod]: '1h',
            ...annotations,
          },
        },
      });
      await addVersion(name, loginPayload(fixture));
      await serve(admin, name, [
        fixture.username,
        ...(strategy === 'alternating-users' ? [`${fixture.username}_clone`] : []),
      ]);
      return { name, engine, strategy, fixture };
    },
    async retireNow(secret, aheadMs = 2 * 3_600_000) {
      const clock = { now: () => Date.now() + aheadMs, sleep: deps.clock.sleep };
      await retireSecret(await store.getSecret(secret), {
        store,
        engineFor: deps.engineFor,
        clock,
        logger,
        newHolderId: deps.newHolderId,
        stagingSecrets: deps.settings.stagingSecrets,
        leaseMs: deps.settings.leaseMs,
        overdueMarginMs: 3_600_000,
      });
    },
    rotationEvent: (secret) =>
      pubsubCloudEvent(onDemandRequest(secret, { requestedBy: 'bench' }), SECRET_EVENTS),
    async stop() {
      await client.close();
      await pubsubClient.close();
      await sm.stop();
      await Promise.allSettled([postgres.stop(), pubsub.stop(), maria?.then((m) => m.stop())]);
    },
  };
}
