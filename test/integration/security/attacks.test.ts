import { randomBytes } from 'node:crypto';
import { loginPayload } from '../../../devtools/db-fixtures';
import { onDemandRequest, pubsubCloudEvent } from '../../../devtools/events';
import {
  type FakeWorkspace,
  startFakeWorkspace,
} from '../../../emulator/databricks/fake-workspace';
import { makeRefreshConsumers } from '../../../functions/refresh-consumers';
import { makeRotateSecret } from '../../../functions/rotate-secret';
import { systemClock } from '../../../shared/clock';
import { CONFIG_KEYS, MANAGED_LABEL } from '../../../shared/config/annotations';
import { ROTATION_OUTCOME_SCHEMA } from '../../../shared/events/rotation-outcome';
import { createLogger } from '../../../shared/logging/logger';
import { Redactor } from '../../../shared/logging/redactor';
import type { RotatorDeps } from '../../../shared/rotation/context';
import { databricksClients } from '../../../shared/runtime/databricks-clients';
import type { SecretStore } from '../../../shared/secrets/secret-store';
import {
  canLogin,
  createRotationHarness,
  type ManagedSecret,
  PROJECT,
  type RotationHarness,
} from '../../support/rotation-harness';

/**
 * The trust boundary, attacked as issue 10 describes, against the real servers (scram PostgreSQL,
 * MariaDB) and the Secret Manager emulator. Each attack must be refused with exactly one ERROR
 * line, leave the victim's password working, add nothing to any secret, and send nothing to a
 * foreign host.
 */
const ATTACKER_PROJECT = 'attacker-project';
const PAT = `dapi-${randomBytes(16).toString('hex')}`;

let h: RotationHarness;
let pinned: FakeWorkspace;
let foreign: FakeWorkspace;
let rotate: (event: unknown) => Promise<void>;
let refresh: (event: unknown) => Promise<void>;
/** Every secret the refresh function read a value of. */
const refreshReads: string[] = [];

beforeAll(async () => {
  h = await createRotationHarness();
  pinned = await startFakeWorkspace();
  foreign = await startFakeWorkspace();
  pinned.acceptToken(PAT);
  foreign.acceptToken(PAT);
  h.passwords.add(PAT);
  await h.client.createSecret({
    parent: `projects/${PROJECT}`,
    secretId: 'dbx-pat',
    secret: { replication: { automatic: {} } },
  });
  await h.addVersion(`projects/${PROJECT}/secrets/dbx-pat`, PAT);
  rotate = makeRotateSecret(() => h.deps);
  const redactor = new Redactor();
  const readingStore: SecretStore = {
    ...h.store,
    accessVersion: (secret, version) => {
      refreshReads.push(secret);
      return h.store.accessVersion(secret, version);
    },
  };
  refresh = makeRefreshConsumers(() => ({
    store: readingStore,
    clock: systemClock,
    logger: h.deps.logger,
    redactor,
    runtime: {
      projectId: PROJECT,
      scope: { projects: [PROJECT] },
      databricks: {
        hosts: [pinned.url],
        credentialSecrets: [`projects/${PROJECT}/secrets/dbx-pat`],
      },
    },
    databricksClientFor: databricksClients(
      {
        clock: systemClock,
        random: Math.random,
        redactor,
        logger: createLogger({ sink: { write: () => {} } }),
      },
      readingStore,
      PROJECT,
      {
        hosts: [pinned.url],
        credentialSecrets: [`projects/${PROJECT}/secrets/dbx-pat`],
      },
    ),
  }));
});

afterAll(async () => {
  h.assertNoPasswordInLogs();
  await pinned.close();
  await foreign.close();
  await h.stop();
});

/** Versions and annotations of each secret: "nothing added, nothing written" is equality. */
async function fingerprint(names: string[]) {
  return Promise.all(
    names.map(async (name) => {
      const s = await h.store.getSecret(name);
      const versions = await h.store.listVersions(name);
      return { name, annotations: s.annotations, aliases: s.aliases, versions: versions.length };
    }),
  );
}

/** Runs `act`; returns the ERROR lines it logged (and every line, for the value scan). */
async function errorsDuring(act: () => Promise<void>) {
  const before = h.sink.lines.length;
  await act();
  return h.sink
    .entries()
    .slice(before)
    .filter((e) => e.severity === 'ERROR');
}

const request = (secret: string) => pubsubCloudEvent(onDemandRequest(secret));

/** A secret the attacker controls: any project, any annotations, a payload of their choosing. */
async function attackerSecret(opts: {
  project?: string;
  labelled?: boolean;
  annotations: Record<string, string>;
  payload: Record<string, unknown>;
}): Promise<string> {
  const project = opts.project ?? PROJECT;
  const id = `attack-${randomBytes(4).toString('hex')}`;
  await h.client.createSecret({
    parent: `projects/${project}`,
    secretId: id,
    secret: {
      replication: { automatic: {} },
      ...(opts.labelled ? { labels: { [MANAGED_LABEL.key]: MANAGED_LABEL.value } } : {}),
      annotations: opts.annotations,
    },
  });
  const name = `projects/${project}/secrets/${id}`;
  await h.addVersion(name, opts.payload);
  return name;
}

/** The victim's own password still logs in. */
const victimLogsIn = (v: ManagedSecret) =>
  canLogin(v.fixture.engine, v.server, v.fixture.database, v.fixture.username, v.fixture.password);

const ADMIN_PG = `projects/${PROJECT}/secrets/admin-postgres`;

describe('a rotation request can only change the logins its owner allowed', () => {
  let victim: ManagedSecret;

  beforeAll(async () => {
    victim = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
  });

  it('refuses a secret in another project that points at the production admin secret', async () => {
    // Prepare: the attacker's own project, the production admin secret, another team's login.
    const attack = await attackerSecret({
      project: ATTACKER_PROJECT,
      labelled: true,
      annotations: {
        [CONFIG_KEYS.engine]: 'postgres',
        [CONFIG_KEYS.strategy]: 'single-user',
        [CONFIG_KEYS.adminSecret]: ADMIN_PG,
      },
      payload: loginPayload(victim.fixture, victim.fixture.username, 'Attacker-Chosen-1'),
    });
    const before = await fingerprint([attack, victim.name, ADMIN_PG]);
    // Act
    const errors = await errorsDuring(() => rotate(request(attack)));
    // Assess
    expect(errors).toEqual([
      expect.objectContaining({
        event: 'event.rejected',
        message: expect.stringMatching(/project attacker-project, which this deployment/),
      }),
    ]);
    await expect(victimLogsIn(victim)).resolves.toBe(true);
    expect(await fingerprint([attack, victim.name, ADMIN_PG])).toEqual(before);
  });

  it('refuses it by the binding too, should the deployment cover that project', async () => {
    // Prepare: a deployment that (wrongly) covers the attacker's project.
    const attack = await attackerSecret({
      project: ATTACKER_PROJECT,
      labelled: true,
      annotations: {
        [CONFIG_KEYS.engine]: 'postgres',
        [CONFIG_KEYS.strategy]: 'single-user',
        [CONFIG_KEYS.adminSecret]: ADMIN_PG,
      },
      payload: loginPayload(victim.fixture, victim.fixture.username, 'Attacker-Chosen-1'),
    });
    const wide: RotatorDeps = {
      ...h.deps,
      settings: { ...h.deps.settings, scope: { projects: [PROJECT, ATTACKER_PROJECT] } },
    };
    const before = await fingerprint([attack, victim.name, ADMIN_PG]);
    // Act
    const errors = await errorsDuring(() => makeRotateSecret(() => wide)(request(attack)));
    // Assess
    expect(errors).toEqual([
      expect.objectContaining({
        event: 'event.rejected',
        message: expect.stringContaining(
          `admin secret ${ADMIN_PG} does not serve secret ${attack}`,
        ),
      }),
    ]);
    await expect(victimLogsIn(victim)).resolves.toBe(true);
    expect(await fingerprint([attack, victim.name, ADMIN_PG])).toEqual(before);
  });

  it('refuses an unlabelled secret in the own project', async () => {
    const attack = await attackerSecret({
      annotations: {
        [CONFIG_KEYS.engine]: 'postgres',
        [CONFIG_KEYS.strategy]: 'single-user',
        [CONFIG_KEYS.adminSecret]: ADMIN_PG,
      },
      payload: loginPayload(victim.fixture, victim.fixture.username, 'Attacker-Chosen-1'),
    });
    const before = await fingerprint([attack, victim.name, ADMIN_PG]);
    const errors = await errorsDuring(() => rotate(request(attack)));
    expect(errors).toEqual([
      expect.objectContaining({
        event: 'event.rejected',
        message: expect.stringContaining(`secret ${attack} is not labelled rotator=managed`),
      }),
    ]);
    await expect(victimLogsIn(victim)).resolves.toBe(true);
    expect(await fingerprint([attack, victim.name, ADMIN_PG])).toEqual(before);
  });

  it.each([
    ['postgres', 'single-user'],
    ['mariadb', 'dual-password'],
  ] as const)(
    '%s: refuses a managed secret whose new version names a login its admin does not serve',
    async (engine, strategy) => {
      // Prepare: the same-project variant. The attacker may add versions to their own managed
      // secret (never rotated yet) and names another team's login in it.
      const other = await h.createManagedSecret({ engine, strategy });
      const own = await h.createManagedSecret({ engine, strategy });
      await h.addVersion(
        own.name,
        loginPayload(own.fixture, other.fixture.username, 'Attacker-Chosen-1'),
      );
      const admin = `projects/${PROJECT}/secrets/admin-${engine}`;
      const before = await fingerprint([own.name, other.name, admin]);
      // Act
      const errors = await errorsDuring(() => rotate(request(own.name)));
      // Assess
      expect(errors).toEqual([
        expect.objectContaining({
          event: 'event.rejected',
          message: expect.stringContaining(
            `admin secret ${admin} does not serve login ${other.fixture.username} for secret ${own.name}`,
          ),
        }),
      ]);
      await expect(victimLogsIn(other)).resolves.toBe(true);
      expect(await fingerprint([own.name, other.name, admin])).toEqual(before);
    },
  );

  it("refuses the admin's own login, unlisted or listed by mistake", async () => {
    const admin = h.databases.postgres;
    for (const listed of [false, true]) {
      const own = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
      if (listed) await h.serve(ADMIN_PG, own.name, [admin.adminUser]);
      await h.addVersion(own.name, loginPayload(own.fixture, admin.adminUser, 'Attacker-Chosen-1'));
      const before = await fingerprint([own.name, ADMIN_PG]);
      const errors = await errorsDuring(() => rotate(request(own.name)));
      expect(errors).toEqual([
        expect.objectContaining({
          event: 'event.rejected',
          message: listed
            ? expect.stringContaining(
                `login ${admin.adminUser} is admin secret ${ADMIN_PG}'s own login`,
              )
            : expect.stringContaining(`does not serve login ${admin.adminUser}`),
        }),
      ]);
      await expect(
        canLogin('postgres', admin, 'postgres', admin.adminUser, admin.adminPassword),
      ).resolves.toBe(true);
      expect(await fingerprint([own.name, ADMIN_PG])).toEqual(before);
    }
  });

  it('refuses an alternating pair whose second login is not listed', async () => {
    // Prepare: the pair's other login is another team's login; the binding lists only the first.
    const other = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    const own = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    await h.client.updateSecret({
      secret: {
        name: own.name,
        annotations: {
          ...(await h.store.getSecret(own.name)).annotations,
          [CONFIG_KEYS.strategy]: 'alternating-users',
          [CONFIG_KEYS.loginPair]: `${own.fixture.username},${other.fixture.username}`,
        },
      },
      updateMask: { paths: ['annotations'] },
    });
    const before = await fingerprint([own.name, other.name, ADMIN_PG]);
    // Act
    const errors = await errorsDuring(() => rotate(request(own.name)));
    // Assess
    expect(errors).toEqual([
      expect.objectContaining({
        event: 'event.rejected',
        message: expect.stringContaining(
          `does not serve login ${other.fixture.username} for secret ${own.name}`,
        ),
      }),
    ]);
    await expect(victimLogsIn(other)).resolves.toBe(true);
    await expect(victimLogsIn(own)).resolves.toBe(true);
    expect(await fingerprint([own.name, other.name, ADMIN_PG])).toEqual(before);
  });
});

describe('the binding costs no Secret Manager call', () => {
  it('reads the admin secret once per delivery (GetSecret + access), the binding included', async () => {
    // Prepare: count the store calls on the admin secret during one successful rotation.
    const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    const calls: string[] = [];
    const counting: SecretStore = {
      ...h.deps.store,
      getSecret: (name) => {
        if (name === ADMIN_PG) calls.push('get');
        return h.deps.store.getSecret(name);
      },
      accessVersion: (name, version) => {
        if (name === ADMIN_PG) calls.push('access');
        return h.deps.store.accessVersion(name, version);
      },
    };
    // Act
    const errors = await errorsDuring(() =>
      makeRotateSecret(() => ({ ...h.deps, store: counting }))(request(secret.name)),
    );
    // Assess: one read per delivery (the pre-flight before the claim; set reuses it), one
    // GetSecret and one access: the binding is read from the GetSecret that resolves `current`.
    expect(errors).toEqual([]);
    expect(calls.sort()).toEqual(['access', 'get']);
    await expect(h.versionLogsIn(secret, 2)).resolves.toBe(true);
  });
});

describe('Databricks targets are pinned by the deployment', () => {
  /** A managed secret with these consumers, rotated, and its rotation-events message. */
  async function rotatedWith(workspace: unknown) {
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'alternating-users',
      annotations: {
        [CONFIG_KEYS.consumers]: JSON.stringify({
          workspace,
          targets: [{ kind: 'secret-scope', scope: 'etl', key: 'db' }],
        }),
      },
    });
    await rotate(request(secret.name));
    const outcome = h.published.filter((p) => p.data.secret === secret.name).at(-1);
    if (!outcome) throw new Error('no outcome published');
    const event = pubsubCloudEvent(
      { data: outcome.data, attributes: outcome.attributes },
      `projects/${PROJECT}/topics/rotation-events`,
    );
    return { secret, event };
  }

  it.each([
    [
      'another host',
      () => ({ host: foreign.url, auth: { type: 'pat', tokenSecret: 'dbx-pat' } }),
      /is not one this deployment allows/,
    ],
    [
      'another credential secret (the victim database secret as a "token")',
      () => ({ host: pinned.url, auth: { type: 'pat', tokenSecret: victimName } }),
      /is not a Databricks credential secret this deployment allows/,
    ],
  ])('fails every target for %s: one ERROR, nothing sent', async (_why, workspace, message) => {
    // Prepare
    const victim = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    victimName = victim.name;
    const { secret, event } = await rotatedWith(workspace());
    const requests = { pinned: pinned.requests.length, foreign: foreign.requests.length };
    refreshReads.length = 0;
    // Act
    const errors = await errorsDuring(() => refresh(event));
    // Assess
    expect(errors).toEqual([
      expect.objectContaining({ event: 'event.rejected', message: expect.stringMatching(message) }),
    ]);
    expect(pinned.requests.length).toBe(requests.pinned);
    expect(foreign.requests.length).toBe(requests.foreign);
    expect(refreshReads).toEqual([]);
    const record = JSON.parse(
      (await h.store.getSecret(secret.name)).annotations['rotator.refresh'] ?? '{}',
    );
    expect(record.targets).toEqual([
      expect.objectContaining({ id: 'secret-scope:etl/db', status: 'failed' }),
    ]);
    await expect(victimLogsIn(victim)).resolves.toBe(true);
  });

  it('refuses a rotation-events message naming a secret outside the deployment', async () => {
    const attack = await attackerSecret({
      project: ATTACKER_PROJECT,
      labelled: true,
      annotations: {
        [CONFIG_KEYS.engine]: 'postgres',
        [CONFIG_KEYS.strategy]: 'single-user',
        [CONFIG_KEYS.adminSecret]: 'self',
        [CONFIG_KEYS.consumers]: JSON.stringify({
          workspace: { host: foreign.url, auth: { type: 'pat', tokenSecret: 'dbx-pat' } },
          targets: [{ kind: 'job', jobId: 1, mode: 'continuous' }],
        }),
      },
      payload: { host: 'db', database: 'd', username: 'u', password: 'Attacker-Chosen-1' },
    });
    const before = foreign.requests.length;
    refreshReads.length = 0;
    const errors = await errorsDuring(() =>
      refresh(
        pubsubCloudEvent(
          {
            data: {
              schema: ROTATION_OUTCOME_SCHEMA,
              rotationId: 'rot-forged',
              secret: attack,
              outcome: 'succeeded',
              engine: 'postgres',
              strategy: 'single-user',
              trigger: 'on-demand',
              previousVersion: '1',
              newVersion: '1',
              startedAt: new Date().toISOString(),
              completedAt: new Date().toISOString(),
              durationMs: 1,
              stepMs: {},
              attempts: 1,
            },
          },
          `projects/${PROJECT}/topics/rotation-events`,
        ),
      ),
    );
    expect(errors).toEqual([
      expect.objectContaining({
        event: 'event.rejected',
        message: expect.stringMatching(/project attacker-project, which this deployment/),
      }),
    ]);
    expect(foreign.requests.length).toBe(before);
    expect(refreshReads).toEqual([]);
  });
});

let victimName = '';
