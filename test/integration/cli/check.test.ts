import mysql from 'mysql2/promise';
import { EXIT } from '../../../cli/exit-codes';
import { productionCliDeps } from '../../../cli/production-deps';
import { adminPayload } from '../../../devtools/db-fixtures';
import {
  type FakeWorkspace,
  startFakeWorkspace,
} from '../../../emulator/databricks/fake-workspace';
import { CONFIG_KEYS } from '../../../shared/config/annotations';
import {
  createRotationHarness,
  type ManagedSecret,
  PROJECT,
  type RotationHarness,
} from '../../support/rotation-harness';
import { cliRunner, json } from './cli-runner';

/**
 * `check` against the real servers: real logins of the admin and the current credential, the
 * admin secret's same-server guard, and GETs of each Databricks target on the fake workspace.
 */
const PAT = 'dapi-cli-check-0123456789abcdef0123';
let h: RotationHarness;
let cli: ReturnType<typeof cliRunner>;
let workspace: FakeWorkspace;
let patSecret: string;
const shortId = (s: ManagedSecret) => s.name.split('/').pop() as string;

beforeAll(async () => {
  h = await createRotationHarness();
  h.passwords.add(PAT);
  workspace = await startFakeWorkspace();
  workspace.acceptToken(PAT);
  workspace.jobs.add({ jobId: 42, name: 'nightly-etl' });
  workspace.clusters.add({ clusterId: 'c-analytics' });
  workspace.pipelines.add({ pipelineId: 'p-orders' });
  workspace.connections.add({ name: 'orders_pg', options: { host: 'db', port: '5432' } });
  patSecret = `projects/${PROJECT}/secrets/dbx-pat`;
  await h.client.createSecret({
    parent: `projects/${PROJECT}`,
    secretId: 'dbx-pat',
    secret: { replication: { automatic: {} } },
  });
  await h.client.addSecretVersion({ parent: patSecret, payload: { data: Buffer.from(PAT) } });
  // The production wiring of Databricks clients (auth from Secret Manager, the CLI's retries).
  const production = productionCliDeps({ ...h.env });
  cli = cliRunner(h, { databricksClientFor: production.databricksClientFor });
});

afterAll(async () => {
  h.assertNoPasswordInLogs();
  await workspace.close();
  await h.stop();
});

const consumers = (targets: unknown[]) =>
  JSON.stringify({
    workspace: { host: workspace.url, auth: { type: 'pat', tokenSecret: patSecret } },
    targets,
  });

describe('gsm-rotator check', () => {
  it('passes a healthy secret: config, payload, admin, logins and every consumer (exit 0)', async () => {
    // Prepare
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'alternating-users',
      annotations: {
        [CONFIG_KEYS.consumers]: consumers([
          { kind: 'job', jobId: 42, mode: 'triggered' },
          { kind: 'cluster', clusterId: 'c-analytics' },
          { kind: 'pipeline', pipelineId: 'p-orders' },
          {
            kind: 'uc-connection',
            name: 'orders_pg',
            options: { user: 'username', password: 'password' },
          },
          { kind: 'secret-scope', scope: 'etl', key: 'orders-db' },
        ]),
      },
    });
    const requestsBefore = workspace.requests.length;
    // Act
    const r = await cli.run(['check', shortId(secret)]);
    // Assess
    expect(r.code).toBe(EXIT.ok);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`checking ${shortId(secret)} (nothing is changed)`);
    expect(lines[1]).toMatch(/^RESULT +CHECK +DETAIL$/);
    const admin = `projects/${PROJECT}/secrets/admin-postgres`;
    const { username, table } = secret.fixture;
    expect(lines.slice(2, 13)).toEqual([
      expect.stringMatching(
        new RegExp(`^ok +config +postgres, alternating-users, admin ${admin}, grace 1h$`),
      ),
      expect.stringMatching(
        new RegExp(
          `^ok +current payload +version 1: ${username} on 127\\.0\\.0\\.1:\\d+/postgres$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^ok +admin serves +${admin} serves ${secret.name} for ${username}, ${username}_clone$`,
        ),
      ),
      expect.stringMatching(new RegExp(`^ok +admin secret +${admin}: readable, same server$`)),
      expect.stringMatching(/^ok +admin login +\S+ logs in$/),
      expect.stringMatching(
        new RegExp(`^ok +current login +${username} logs in and the test query runs$`),
      ),
      expect.stringMatching(/^ok +consumer job:42 +job 42 "nightly-etl" exists$/),
      expect.stringMatching(/^ok +consumer cluster:c-analytics +cluster exists \(RUNNING\)$/),
      expect.stringMatching(/^ok +consumer pipeline:p-orders +pipeline exists/),
      expect.stringMatching(/^ok +consumer uc-connection:orders_pg +connection exists/),
      expect.stringMatching(
        /^skip +consumer secret-scope:etl\/orders-db +secret scopes cannot be checked without writing$/,
      ),
    ]);
    expect(lines[13]).toBe('all checks passed');
    expect(table).toBeDefined();
    // Read-only: GETs only, nothing written to the workspace.
    expect(workspace.requests.slice(requestsBefore).map((q) => q.method)).toEqual([
      'GET',
      'GET',
      'GET',
      'GET',
    ]);
  });

  it('fails when the admin secret names another server (exit 1)', async () => {
    // Prepare: an admin secret for the MariaDB server, configured on a PostgreSQL secret.
    const other = `projects/${PROJECT}/secrets/admin-elsewhere`;
    await h.client.createSecret({
      parent: `projects/${PROJECT}`,
      secretId: 'admin-elsewhere',
      secret: { replication: { automatic: {} } },
    });
    await h.addVersion(other, adminPayload('mariadb', h.databases.mariadb));
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'alternating-users',
      annotations: { [CONFIG_KEYS.adminSecret]: other },
    });
    // Act
    const r = await cli.run(['check', shortId(secret), '--json']);
    // Assess
    expect(r.code).toBe(EXIT.notOk);
    expect(json(r)).toEqual({
      secret: secret.name,
      ok: false,
      checks: [
        { name: 'config', status: 'ok', detail: expect.any(String) },
        { name: 'current payload', status: 'ok', detail: expect.any(String) },
        { name: 'admin serves', status: 'ok', detail: expect.any(String) },
        {
          name: 'admin secret',
          status: 'fail',
          detail: `admin secret ${other} names another server than the managed secret ${secret.name}`,
        },
        { name: 'admin login', status: 'skip', detail: 'needs a usable admin secret' },
        { name: 'current login', status: 'ok', detail: expect.any(String) },
        { name: 'consumers', status: 'skip', detail: 'no Databricks consumers configured' },
      ],
    });
  });

  it('fails when the current credential is rejected by the server', async () => {
    const secret = await h.createManagedSecret({ engine: 'mariadb', strategy: 'dual-password' });
    await h.addVersion(secret.name, {
      host: secret.server.host,
      port: secret.server.port,
      database: secret.fixture.database,
      username: secret.fixture.username,
      password: 'Wrong-password-123456',
    });
    h.passwords.add('Wrong-password-123456');
    const r = await cli.run(['check', secret.name]);
    expect(r.code).toBe(EXIT.notOk);
    expect(r.stdout).toMatch(
      new RegExp(`\\nFAIL +current login +the server rejected ${secret.fixture.username}\\n`),
    );
    expect(r.stdout).toMatch(/\nok +admin login /);
    expect(r.stdout).toMatch(/\n1 check\(s\) failed\n$/);
  });

  it('dual-password: fails an account with an authentication plugin the rotator cannot use', async () => {
    const secret = await h.createManagedSecret({ engine: 'mariadb', strategy: 'dual-password' });
    const healthy = await cli.run(['check', secret.name]);
    expect(healthy.stdout).toMatch(
      new RegExp(`\\nok +dual password +${secret.fixture.username} can hold two passwords\\n`),
    );
    // The password still works; a unix_socket alternative is what dual-password would lose.
    const admin = await mysql.createConnection({
      host: secret.server.host,
      port: secret.server.port,
      user: secret.server.adminUser,
      password: secret.server.adminPassword,
    });
    await admin.query(
      'ALTER USER ?@? IDENTIFIED VIA mysql_native_password USING PASSWORD(?) OR unix_socket',
      [secret.fixture.username, '%', secret.fixture.password],
    );
    await admin.end();
    const r = await cli.run(['check', secret.name]);
    expect(r.code).toBe(EXIT.notOk);
    expect(r.stdout).toMatch(/\nok +current login /);
    expect(r.stdout).toMatch(
      /\nFAIL +dual password +the account authenticates with unix_socket, which the rotator cannot log in with/,
    );
  });

  it('fails when the database cannot be reached', async () => {
    const secret = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'single-user',
      self: true,
    });
    await h.addVersion(secret.name, {
      host: '127.0.0.1',
      port: 9,
      database: 'postgres',
      username: secret.fixture.username,
      password: secret.fixture.password,
    });
    const r = await cli.run(['check', shortId(secret)]);
    expect(r.code).toBe(EXIT.notOk);
    expect(r.stdout).toMatch(/\nskip +admin secret +'self': the login changes its own password\n/);
    expect(r.stdout).toMatch(/\nFAIL +current login +.*(ECONNREFUSED|connect)/i);
  });

  it('fails on a payload that is not a database payload, naming the field', async () => {
    const secret = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
    await h.addVersion(secret.name, {
      host: '127.0.0.1',
      username: 'x',
      password: 'Not-printed-987654',
    });
    h.passwords.add('Not-printed-987654');
    const r = await cli.run(['check', shortId(secret)]);
    expect(r.code).toBe(EXIT.notOk);
    expect(r.stdout).toMatch(/\nFAIL +current payload +version 2: database: /);
    expect(r.stdout).toMatch(/\nskip +database +needs a valid current payload\n/);
  });

  it('fails on an invalid config naming the annotation, and on a missing consumer target', async () => {
    const broken = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'single-user',
      annotations: { [CONFIG_KEYS.maxAttempts]: 'many' },
    });
    const missingTarget = await h.createManagedSecret({
      engine: 'postgres',
      strategy: 'single-user',
      annotations: {
        [CONFIG_KEYS.consumers]: consumers([
          { kind: 'pipeline', pipelineId: 'p-gone' },
          { kind: 'job', jobId: 7, mode: 'continuous' },
        ]),
      },
    });
    const r1 = await cli.run(['check', shortId(broken)]);
    const r2 = await cli.run(['check', shortId(missingTarget)]);
    expect(r1.code).toBe(EXIT.notOk);
    expect(r1.stdout).toMatch(
      /\nFAIL +config +secret \S+ has an invalid rotation config: rotator\.max-attempts: a whole number\n/,
    );
    expect(r2.code).toBe(EXIT.notOk);
    expect(r2.stdout).toMatch(/\nFAIL +consumer pipeline:p-gone +does not exist\n/);
    expect(r2.stdout).toMatch(/\nFAIL +consumer job:7 +does not exist\n/);
  });

  it('answers unknown and unmanaged secrets with exit 3', async () => {
    const unknown = await cli.run(['check', 'nothing-here']);
    expect(unknown.code).toBe(EXIT.notFound);
    expect(unknown.stderr).toBe(
      `error: secret not found: projects/${PROJECT}/secrets/nothing-here\n`,
    );
    const unmanaged = await cli.run(['check', 'dbx-pat']);
    expect(unmanaged.code).toBe(EXIT.notFound);
    expect(unmanaged.stderr).toBe(
      `error: secret projects/${PROJECT}/secrets/dbx-pat is not managed by gsm-rotator (no rotator.engine)\n`,
    );
  });
});
