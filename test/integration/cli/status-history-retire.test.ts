import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../../cli/exit-codes';
import { CONFIG_KEYS } from '../../../shared/config/annotations';
import type { RotationRequest } from '../../../shared/events/rotation-request';
import { retireSecret } from '../../../shared/retirement/retire-secret';
import { handleRotationRequest } from '../../../shared/rotation/rotator';
import { secretStoreFromEnv } from '../../../shared/runtime/deps';
import {
  createRotationHarness,
  type ManagedSecret,
  PROJECT,
  type RotationHarness,
} from '../../support/rotation-harness';
import { cliRunner, json } from './cli-runner';

/**
 * status, history and retire --dry-run against the Secret Manager emulator, with history made by
 * real rotations on the test PostgreSQL and MariaDB servers.
 */
const HOUR = 3_600_000;
let h: RotationHarness;
let cli: ReturnType<typeof cliRunner>;
let healthy: ManagedSecret;
let failing: ManagedSecret;
let invalid: ManagedSecret;
let scheduled: ManagedSecret;
const rotationIds: string[] = [];
const shortId = (s: ManagedSecret) => s.name.split('/').pop() as string;
const shiftedClock = (offsetMs: number) => ({
  now: () => Date.now() + offsetMs,
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
});

let seq = 0;
async function rotate(secret: ManagedSecret, deps = h.deps): Promise<string | undefined> {
  const request: RotationRequest = {
    secret: secret.name,
    trigger: 'on-demand',
    requestKey: `on-demand:cli-history-${++seq}`,
    requestedAt: Date.now(),
    requestedBy: 'alice@example.com',
  };
  const result = await handleRotationRequest(request, deps);
  return 'rotationId' in result ? result.rotationId : undefined;
}

beforeAll(async () => {
  h = await createRotationHarness();
  cli = cliRunner(h);
  healthy = await h.createManagedSecret({ engine: 'postgres', strategy: 'alternating-users' });
  rotationIds.unshift((await rotate(healthy)) as string);
  // The second rotation waits for the first one's grace window (1h): run it just after, when the
  // rotator retires version 1 first.
  const afterGrace = { ...h.deps, clock: shiftedClock(HOUR + 60_000) };
  rotationIds.unshift((await rotate(healthy, afterGrace)) as string);
  failing = await h.createManagedSecret({
    engine: 'mariadb',
    strategy: 'single-user',
    annotations: { [CONFIG_KEYS.testQuery]: 'SELECT * FROM no_such_table_here' },
  });
  await rotate(failing);
  invalid = await h.createManagedSecret({
    engine: 'postgres',
    strategy: 'single-user',
    annotations: { [CONFIG_KEYS.gracePeriod]: 'soon' },
  });
  scheduled = await h.createManagedSecret({ engine: 'postgres', strategy: 'single-user' });
  await h.client.updateSecret({
    secret: {
      name: scheduled.name,
      topics: [{ name: `projects/${PROJECT}/topics/secret-events` }],
      rotation: {
        nextRotationTime: { seconds: Math.floor((Date.now() + 24 * HOUR) / 1000) },
        rotationPeriod: { seconds: 30 * 24 * 3600 },
      },
    },
    updateMask: { paths: ['topics', 'rotation'] },
  });
  await h.client.createSecret({
    parent: `projects/${PROJECT}`,
    secretId: 'plain-secret',
    secret: { replication: { automatic: {} } },
  });
});

afterAll(async () => {
  h.assertNoPasswordInLogs();
  await h.stop();
});

describe('gsm-rotator status', () => {
  it('lists every managed secret with its state, and exits 1 when one is failed or invalid', async () => {
    // Act
    const r = await cli.run(['status']);
    // Assess
    expect(r.code).toBe(EXIT.notOk);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^SECRET +STRATEGY +ENGINE +CURRENT +PREVIOUS +PENDING LOGIN +LAST ROTATION +NEXT ROTATION +STATE +CONSUMERS$/,
    );
    const row = (s: ManagedSecret) => lines.find((l) => l.startsWith(`${shortId(s)} `)) ?? '';
    expect(row(healthy)).toMatch(
      /^db-\w+ +alternating-users +postgres +3 +2 +- +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ succeeded +- +ok +-$/,
    );
    expect(row(failing)).toMatch(/single-user +mariadb +1 +- +- +\S+Z failed +- +failed +-$/);
    expect(row(invalid)).toMatch(/^db-\w+ +- +- +- +- +- +never +- +invalid-config +-$/);
    expect(row(scheduled)).toMatch(/ never +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +ok +-$/);
    expect(r.stdout).not.toContain('plain-secret');
    expect(r.stdout).toContain(`${shortId(failing)}: failed: last rotation failed:`);
    expect(r.stdout).toContain(
      `${shortId(invalid)}: invalid-config: secret ${invalid.name} has an invalid rotation config: rotator.grace-period: not a duration`,
    );
    expect(r.stderr).toBe('');
  });

  it('shows one secret as JSON for scripts, exit 0 when it is ok', async () => {
    const r = await cli.run(['status', shortId(healthy), '--json']);
    expect(r.code).toBe(EXIT.ok);
    expect(json(r)).toEqual({
      ok: true,
      secrets: [
        {
          name: healthy.name,
          engine: 'postgres',
          strategy: 'alternating-users',
          versions: { current: 3, previous: 2 },
          pendingLogin: null,
          lastRotation: {
            id: rotationIds[0],
            outcome: 'succeeded',
            trigger: 'on-demand',
            requestedBy: 'alice@example.com',
            completedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          },
          nextRotation: null,
          state: 'ok',
          reason: null,
          consumers: { confirmed: 0, total: 0 },
          schedule: null,
          paused: null,
        },
      ],
    });
  });

  it('accepts a full secret name, and --project instead of the environment', async () => {
    const r = await cli.run(['status', healthy.name, '--json'], { env: {} });
    expect(r.code).toBe(EXIT.ok);
    const byProject = await cli.run(['--project', PROJECT, 'status', shortId(healthy)], {
      env: {},
    });
    expect(byProject.code).toBe(EXIT.ok);
    expect(byProject.stdout).toContain(`${shortId(healthy)} `);
  });

  it('reports a secret whose schedule passed without a rotation as overdue (exit 1)', async () => {
    // Prepare: two days later, the rotation due tomorrow never happened.
    const later = shiftedClock(48 * HOUR);
    // Act
    const r = await cli.run(['status', shortId(scheduled), '--json'], { clock: later });
    // Assess
    expect(r.code).toBe(EXIT.notOk);
    const [status] = json(r).secrets as Record<string, unknown>[];
    expect(status).toMatchObject({
      state: 'overdue',
      reason: expect.stringMatching(
        /^next rotation time passed without a notification \(expected /,
      ),
    });
    const withMargin = await cli.run(['status', shortId(scheduled), '--overdue-margin', '3d'], {
      clock: later,
    });
    expect(withMargin.code).toBe(EXIT.ok);
  });

  it.each<[string, string[], number, string]>([
    [
      'an unknown secret',
      ['status', 'no-such-secret'],
      EXIT.notFound,
      `error: secret not found: projects/${PROJECT}/secrets/no-such-secret\n`,
    ],
    [
      'an unknown secret in --location too',
      ['status', 'no-such-secret', '--location', 'europe-west1'],
      EXIT.notFound,
      `error: secret not found: no-such-secret (looked for projects/${PROJECT}/secrets/no-such-secret, projects/${PROJECT}/locations/europe-west1/secrets/no-such-secret)\n`,
    ],
    [
      'an unmanaged secret',
      ['status', 'plain-secret'],
      EXIT.notFound,
      `error: secret projects/${PROJECT}/secrets/plain-secret is not managed by gsm-rotator (no rotator.engine)\n`,
    ],
  ])('answers %s with exit 3 and one line', async (_what, argv, code, message) => {
    const r = await cli.run(argv);
    expect(r.code).toBe(code);
    expect(r.stderr).toBe(message);
    expect(r.stdout).toBe('');
  });

  it('names the annotation of an invalid config (exit 3)', async () => {
    const r = await cli.run(['status', shortId(invalid)]);
    expect(r.code).toBe(EXIT.notFound);
    expect(r.stderr).toMatch(
      /^error: secret \S+ has an invalid rotation config: rotator\.grace-period: not a duration .*\n$/,
    );
  });

  it('exits 4 when Secret Manager is unavailable', async () => {
    h.emulator.faults.failNext('getSecret');
    const r = await cli.run(['status', shortId(healthy)]);
    expect(r.code).toBe(EXIT.transient);
    expect(r.stderr).toMatch(/^error: getSecret .*\(transient: try again\)\n$/);
  });

  it('exits 4 when Secret Manager cannot be reached at all', async () => {
    const nowhere = secretStoreFromEnv(undefined, { SECRET_MANAGER_EMULATOR_HOST: '127.0.0.1:9' });
    const r = await cli.run(['status'], { store: nowhere });
    expect(r.code).toBe(EXIT.transient);
    expect(r.stderr).toMatch(
      /^error: listSecrets projects\/test-project: .*\(transient: try again\)\n$/,
    );
  });
});

describe('gsm-rotator history', () => {
  it('lists the rotations newest first with versions, outcome, duration and who asked', async () => {
    const r = await cli.run(['history', shortId(healthy)]);
    expect(r.code).toBe(EXIT.ok);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^STARTED +ROTATION +VERSIONS +OUTCOME +DURATION +REQUESTED BY \(CLAIM\) +RETIRED$/,
    );
    expect(lines[1]).toMatch(
      new RegExp(
        `^\\S+Z +${rotationIds[0]} +2 → 3 +succeeded +[\\d.]+m?s +on-demand \\(alice@example.com\\) +not yet$`,
      ),
    );
    expect(lines[2]).toMatch(new RegExp(`^\\S+Z +${rotationIds[1]} +1 → 2 +succeeded `));
    // The versions list, with their aliases.
    expect(r.stdout).toMatch(
      // Version 1 was retired before the second rotation (the grace window rule).
      /VERSION +STATE +CREATED +ALIASES\n3 +ENABLED +\S+Z +current\n2 +ENABLED +\S+Z +previous\n1 +DISABLED +\S+Z\n/,
    );
  });

  it('shows a failed rotation with its error', async () => {
    const r = await cli.run(['history', shortId(failing)]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/ 1 → - +failed +/);
    expect(r.stdout).toMatch(/\n {4}error: .+\n/);
    // The unverified credential never became a version: the managed secret holds only version 1.
    expect(r.stdout).toMatch(/\n1 +ENABLED +\S+ +current\n$/);
  });

  it('honours --limit and gives scripts JSON', async () => {
    const r = await cli.run(['history', shortId(healthy), '--limit', '1', '--json']);
    expect(r.code).toBe(EXIT.ok);
    const doc = json(r);
    expect(doc.secret).toBe(healthy.name);
    expect(doc.rotations).toEqual([
      {
        id: rotationIds[0],
        kind: 'rotation',
        trigger: 'on-demand',
        requestedBy: 'alice@example.com',
        outcome: 'succeeded',
        startedAt: expect.any(String),
        completedAt: expect.any(String),
        durationMs: expect.any(Number),
        fromVersion: 2,
        toVersion: 3,
        attempts: 1,
        error: null,
        retiredAt: null,
        reason: null,
        fromVersionState: 'ENABLED',
      },
    ]);
    expect((doc.versions as unknown[])[0]).toEqual({
      number: 3,
      state: 'ENABLED',
      createdAt: expect.any(String),
      aliases: ['current'],
    });
  });

  it('shows each rotation its log lines from a JSON-lines export (--logs)', async () => {
    // Prepare: the rotations' own log lines, as the functions wrote them.
    const file = join(tmpdir(), `gsm-cli-logs-${process.pid}.jsonl`);
    await writeFile(file, `${h.sink.lines.join('\n')}\nnot a log line\n`);
    // Act
    const r = await cli.run(['history', shortId(healthy), '--logs', file]);
    // Assess
    expect(r.code).toBe(EXIT.ok);
    expect(r.stderr).toBe(`note: 1 line(s) of ${file} are not log entries: ignored\n`);
    const block =
      r.stdout.split(rotationIds[0] as string)[1]?.split(rotationIds[1] as string)[0] ?? '';
    for (const step of ['create', 'set', 'test', 'promote']) {
      expect(block).toMatch(
        new RegExp(
          `\\n {4}\\S+Z  INFO +rotation\\.step +rotation step ${step} done  \\d+(ms|\\.\\ds)\\n`,
        ),
      );
    }
    expect(block).toMatch(/ {4}\S+Z {2}INFO +rotation\.claimed +rotation started/);
    expect(block).toMatch(/ {4}\S+Z {2}NOTICE +rotation\.completed +rotation completed/);
    // Lines of the other secret's rotations are not shown here.
    expect(r.stdout).not.toContain(failing.name);
  });

  it('reads a gcloud --format=json export of LogEntry objects the same way', async () => {
    const entries = h.sink.lines.map((line) => {
      const {
        severity,
        time,
        'logging.googleapis.com/labels': labels,
        ...payload
      } = JSON.parse(line) as Record<string, unknown>;
      return { timestamp: time, severity, labels, jsonPayload: payload };
    });
    const file = join(tmpdir(), `gsm-cli-logs-${process.pid}.json`);
    await writeFile(file, JSON.stringify(entries.reverse(), null, 2));
    const r = await cli.run(['history', shortId(healthy), '--logs', file, '--json']);
    expect(r.code).toBe(EXIT.ok);
    const [latest] = json(r).rotations as { logs: { event?: string; step?: string }[] }[];
    expect(latest?.logs.filter((l) => l.event === 'rotation.step').map((l) => l.step)).toEqual([
      'create',
      'set',
      'test',
      'promote',
      'announce',
    ]);
  });

  it('answers an unknown secret with exit 3', async () => {
    const r = await cli.run(['history', `projects/${PROJECT}/secrets/missing`]);
    expect(r.code).toBe(EXIT.notFound);
    expect(r.stderr).toBe(`error: secret not found: projects/${PROJECT}/secrets/missing\n`);
  });
});

describe('gsm-rotator retire --dry-run', () => {
  it('shows what the next tick would do, changing nothing', async () => {
    // Act
    const r = await cli.run(['retire', '--dry-run', shortId(healthy)]);
    // Assess
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toContain('dry run: what the next retire tick would do (nothing is changed)');
    expect(r.stdout).toMatch(
      new RegExp(`${shortId(healthy)} +keep previous +grace period until \\S+Z`),
    );
    const versions = await h.store.listVersions(healthy.name);
    // Version 1 was retired by the rotator before the second rotation; the dry run changed nothing.
    expect(versions.map((v) => v.state)).toEqual(['ENABLED', 'ENABLED', 'DISABLED']);
  });

  it('after the grace period: retires previous; reports overdue secrets and exits 1', async () => {
    // Act: two days later (grace 1h; the scheduled secret's rotation is a day late).
    const r = await cli.run(['retire', '--dry-run', '--json'], { clock: shiftedClock(48 * HOUR) });
    // Assess
    expect(r.code).toBe(EXIT.notOk);
    const doc = json(r) as { dryRun: boolean; ok: boolean; secrets: Record<string, unknown>[] };
    expect(doc).toMatchObject({ dryRun: true, ok: false });
    const of = (s: ManagedSecret) => doc.secrets.find((x) => x.secret === s.name);
    expect(of(healthy)).toEqual({
      secret: healthy.name,
      actions: [{ kind: 'retire-previous', version: 2, unconfirmed: [], forced: false }],
      waiting: null,
      skipped: null,
      overdue: null,
      error: null,
    });
    expect(of(scheduled)?.overdue).toEqual({
      reason: 'next rotation time passed without a notification',
      expectedAt: expect.any(String),
    });
    expect(of(failing)?.overdue).toMatchObject({
      reason: expect.stringMatching(/^last rotation failed: /),
    });
    expect(of(invalid)?.error).toMatch(/rotator\.grace-period: not a duration/);
  });

  it('history then shows when retireVersions retired the old version', async () => {
    // Prepare: the real retirement, three hours later (the second rotation ran at +1h).
    const later = shiftedClock(3 * HOUR);
    await retireSecret(await h.store.getSecret(healthy.name), {
      store: h.store,
      engineFor: h.deps.engineFor,
      clock: later,
      logger: h.deps.logger,
      newHolderId: () => 'cli-test',
      leaseMs: 60_000,
      overdueMarginMs: HOUR,
    });
    // Act
    const r = await cli.run(['history', shortId(healthy)]);
    // Assess
    const lines = r.stdout.split('\n');
    expect(lines[1]).toMatch(/ 2 → 3 .* \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // Version 1 was retired before the second rotation (the grace window rule), with its time.
    expect(lines[2]).toMatch(/ 1 → 2 .* \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
    expect(r.stdout).toMatch(/\n2 +DISABLED +\S+Z\n1 +DISABLED +\S+Z\n/);
  });
});
