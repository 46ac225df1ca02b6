import { randomBytes } from 'node:crypto';
import { EXIT } from '../../../cli/exit-codes';
import {
  createLogin,
  type FixtureEngine,
  type LoginFixture,
  loginPayload,
} from '../../../devtools/db-fixtures';
import { ALIASES, CONFIG_KEYS, MANAGED_LABEL } from '../../../shared/config/annotations';
import { PermissionDeniedError } from '../../../shared/secrets/errors';
import { SERVES_KEY } from '../../../shared/trust/serves';
import {
  createRotationHarness,
  PROJECT,
  type RotationHarness,
} from '../../support/rotation-harness';
import { cliRunner, json } from './cli-runner';

/**
 * `gsm-rotator adopt` against the real servers: the dry run writes nothing and shows the check as
 * it would read afterwards; --apply sets label, topic, annotations and the admin secret's binding,
 * converts a plain password into a NEW version only with the connection flags (the old version
 * untouched), creates nothing in the database, and ends with a passing check.
 */
const TOPIC = `projects/${PROJECT}/topics/gsm-rotator-test-secret-events`;
let h: RotationHarness;
let cli: ReturnType<typeof cliRunner>;

beforeAll(async () => {
  h = await createRotationHarness();
  cli = cliRunner(h);
});
afterAll(async () => {
  h.assertNoPasswordInLogs();
  await h.stop();
});

/** An existing, unmanaged secret whose payload is `data` (default: the JSON payload). */
async function existingSecret(
  engine: FixtureEngine,
  data?: (f: LoginFixture) => string,
): Promise<{ name: string; id: string; fixture: LoginFixture; version: number }> {
  const id = `adopt-${randomBytes(4).toString('hex')}`;
  const fixture = await createLogin(
    engine,
    engine === 'postgres' ? h.databases.postgres : h.databases.mariadb,
    id.replace('-', '_'),
  );
  h.passwords.add(fixture.password);
  const name = `projects/${PROJECT}/secrets/${id}`;
  await h.client.createSecret({
    parent: `projects/${PROJECT}`,
    secretId: id,
    secret: { replication: { automatic: {} }, labels: { team: 'orders' } },
  });
  return { name, id, fixture, ...(await seed(name, fixture, data)) };
}

async function seed(name: string, f: LoginFixture, data?: (f: LoginFixture) => string) {
  const [v] = await h.client.addSecretVersion({
    parent: name,
    payload: { data: Buffer.from(data ? data(f) : JSON.stringify(loginPayload(f))) },
  });
  return { version: Number(String(v.name).split('/').pop()) };
}

async function everything(name: string, admin: string) {
  const secret = await h.store.getSecret(name);
  const versions = await h.store.listVersions(name);
  const adminSecret = await h.store.getSecret(admin);
  return { secret: { ...secret, etag: '' }, versions, serves: adminSecret.annotations[SERVES_KEY] };
}

describe('adopt a JSON payload (PostgreSQL, alternating-users)', () => {
  it('dry run: lists the changes, shows a passing check as it would read, writes nothing', async () => {
    // Prepare
    const s = await existingSecret('postgres');
    const admin = await h.adminSecretFor('postgres');
    const before = await everything(s.name, admin);
    const args = ['adopt', s.id, '--engine', 'postgres', '--strategy', 'alternating-users'];

    // Act
    const run = await cli.run([
      ...args,
      '--admin-secret',
      'admin-postgres',
      '--topic',
      TOPIC,
      '--json',
    ]);
    const text = await cli.run([...args, '--admin-secret', 'admin-postgres', '--topic', TOPIC]);

    // Assert
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT.ok);
    const document = json(run);
    expect(document.applied).toBe(false);
    expect(document.changes).toEqual(
      expect.arrayContaining([
        { kind: 'label', target: 'rotator', from: null, to: 'managed' },
        { kind: 'annotation', target: CONFIG_KEYS.engine, from: null, to: 'postgres' },
        { kind: 'annotation', target: CONFIG_KEYS.strategy, from: null, to: 'alternating-users' },
        { kind: 'annotation', target: CONFIG_KEYS.adminSecret, from: null, to: admin },
        { kind: 'topic', target: 'topics', from: null, to: TOPIC },
        { kind: 'alias', target: 'current', from: null, to: String(s.version) },
        {
          kind: 'binding',
          target: `${admin} ${SERVES_KEY}["${s.name}"]`,
          from: null,
          to: JSON.stringify([s.fixture.username, `${s.fixture.username}_clone`]),
        },
      ]),
    );
    expect(document.check).toMatchObject({ ok: true });
    expect(text.stdout).toMatch(/dry run, nothing written \(add --apply/);
    expect(text.stdout).toContain('database: nothing is created or changed');
    expect(text.stdout).toContain('terraform import');
    expect(text.stdout).toContain('all checks passed');
    expect(await everything(s.name, admin)).toEqual(before);
  });

  it('--apply: label, topic, annotations and binding set, the version untouched, check ok', async () => {
    // Prepare
    const s = await existingSecret('postgres');
    const admin = await h.adminSecretFor('postgres');

    // Act
    const run = await cli.run([
      'adopt',
      s.name,
      '--engine',
      'postgres',
      '--strategy',
      'alternating-users',
      '--admin-secret',
      admin,
      '--topic',
      TOPIC,
      '--apply',
      '--json',
    ]);

    // Assert
    expect(run.code).toBe(EXIT.ok);
    expect(json(run)).toMatchObject({ applied: true, bindingWritten: true, check: { ok: true } });
    const after = await everything(s.name, admin);
    expect(after.secret.labels).toEqual({
      team: 'orders',
      [MANAGED_LABEL.key]: MANAGED_LABEL.value,
    });
    expect(after.secret.topics).toEqual([TOPIC]);
    expect(after.secret.annotations).toMatchObject({
      [CONFIG_KEYS.engine]: 'postgres',
      [CONFIG_KEYS.strategy]: 'alternating-users',
      [CONFIG_KEYS.adminSecret]: admin,
    });
    expect(after.secret.aliases[ALIASES.current]).toBe(s.version);
    expect(after.versions.map((v) => [v.number, v.state])).toEqual([[s.version, 'ENABLED']]);
    expect(JSON.parse(after.serves ?? '{}')[s.name]).toEqual([
      s.fixture.username,
      `${s.fixture.username}_clone`,
    ]);
    // A second run has nothing left to change; `check` agrees.
    const again = await cli.run([
      'adopt',
      s.name,
      '--engine',
      'postgres',
      '--strategy',
      'alternating-users',
      '--admin-secret',
      admin,
      '--topic',
      TOPIC,
      '--apply',
      '--json',
    ]);
    expect(json(again).changes).toEqual([]);
    expect((await cli.run(['check', s.name])).code).toBe(EXIT.ok);
  });
});

describe('adopt a plain-password payload (MariaDB, dual-password)', () => {
  const plain = (f: LoginFixture) => `${f.password}\n`;

  it('refuses without the connection fields, and writes nothing (exit 1)', async () => {
    const s = await existingSecret('mariadb', plain);
    const admin = await h.adminSecretFor('mariadb');
    const before = await everything(s.name, admin);

    const run = await cli.run([
      'adopt',
      s.name,
      '--engine',
      'mariadb',
      '--strategy',
      'dual-password',
      '--admin-secret',
      admin,
      '--topic',
      TOPIC,
      '--apply',
    ]);

    expect(run.code).toBe(EXIT.notOk);
    expect(run.stderr).toMatch(/is a plain password.*pass --host, --database and --username/);
    expect(await everything(s.name, admin)).toEqual(before);
  });

  it('--apply with the fields adds a NEW JSON version, keeps the old one as it is, check ok', async () => {
    // Prepare
    const s = await existingSecret('mariadb', plain);
    const admin = await h.adminSecretFor('mariadb');
    const connection = [
      '--host',
      s.fixture.server.host,
      '--port',
      String(s.fixture.server.port),
      '--database',
      s.fixture.database,
      '--username',
      s.fixture.username,
    ];
    const base = [
      'adopt',
      s.name,
      '--engine',
      'mariadb',
      '--strategy',
      'dual-password',
      '--admin-secret',
      admin,
      '--topic',
      TOPIC,
      ...connection,
    ];

    // Act
    const dry = await cli.run([...base, '--json']);
    const versionsAfterDryRun = await h.store.listVersions(s.name);
    const run = await cli.run([...base, '--apply']);

    // Assert
    expect(dry.code).toBe(EXIT.ok);
    expect(json(dry).changes).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'version' })]),
    );
    expect(json(dry).check).toMatchObject({ ok: true });
    expect(versionsAfterDryRun).toHaveLength(1);
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toContain('all checks passed');
    const after = await everything(s.name, admin);
    expect(after.versions.map((v) => [v.number, v.state])).toEqual([
      [s.version + 1, 'ENABLED'],
      [s.version, 'ENABLED'],
    ]);
    expect(after.secret.aliases[ALIASES.current]).toBe(s.version + 1);
    expect(await h.store.accessVersion(s.name, s.version)).toBe(`${s.fixture.password}\n`);
    expect(JSON.parse(await h.store.accessVersion(s.name, s.version + 1))).toEqual({
      host: s.fixture.server.host,
      port: s.fixture.server.port,
      database: s.fixture.database,
      username: s.fixture.username,
      password: s.fixture.password,
    });
  });
});

it('refuses the connection fields for a JSON payload (exit 2)', async () => {
  const s = await existingSecret('postgres');
  const run = await cli.run([
    'adopt',
    s.name,
    '--engine',
    'postgres',
    '--strategy',
    'single-user',
    '--admin-secret',
    'self',
    '--topic',
    TOPIC,
    '--host',
    'db',
    '--database',
    'd',
    '--username',
    'u',
  ]);
  expect(run.code).toBe(EXIT.usage);
  expect(run.stderr).toMatch(/already JSON/);
});

it('without the right to write the binding: adopts the rest, prints the gcloud line for the owner, check fails on it', async () => {
  // Prepare: the caller may not update the admin secret.
  const s = await existingSecret('postgres');
  const admin = await h.adminSecretFor('postgres');
  const store = {
    ...h.store,
    updateSecret: (
      snapshot: Parameters<typeof h.store.updateSecret>[0],
      change: Parameters<typeof h.store.updateSecret>[1],
    ) =>
      snapshot.name === admin
        ? Promise.reject(
            new PermissionDeniedError(`Permission 'secretmanager.secrets.update' denied`, admin),
          )
        : h.store.updateSecret(snapshot, change),
  };

  // Act
  const run = await cli.run(
    [
      'adopt',
      s.name,
      '--engine',
      'postgres',
      '--strategy',
      'single-user',
      '--admin-secret',
      admin,
      '--topic',
      TOPIC,
      '--apply',
    ],
    { store },
  );

  // Assert
  expect(run.code).toBe(EXIT.notOk);
  expect(run.stdout).toContain(
    `gcloud secrets update ${admin} --update-annotations='^;^${SERVES_KEY}=`,
  );
  expect(run.stdout).toMatch(/FAIL\s+admin serves/);
  expect((await h.store.getSecret(s.name)).labels[MANAGED_LABEL.key]).toBe(MANAGED_LABEL.value);
});
