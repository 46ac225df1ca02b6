import { EXIT } from '../../../cli/exit-codes';
import { runCli } from '../../../cli/run-cli';
import { offlineDeps } from './cli-io';

describe('runCli: the command line', () => {
  it('prints help with the exit codes and exits 0', async () => {
    // Prepare
    const io = offlineDeps();
    // Act
    const code = await runCli(['--help'], io.deps);
    // Assess
    expect(code).toBe(EXIT.ok);
    expect(io.stdout()).toContain('Usage: gsm-rotator');
    expect(io.stdout()).toMatch(/Exit codes:\n {2}0 {2}ok\n {2}1 {2}not ok/);
    for (const command of ['status', 'history', 'rotate', 'check', 'retire', 'adopt', 'rollback']) {
      expect(io.stdout()).toContain(command);
    }
    expect(io.stdout()).toMatch(/\n {2}5 {2}rollback refused/);
  });

  it.each([
    'status',
    'history',
    'rotate',
    'check',
    'retire',
    'pause',
    'resume',
    'adopt',
    'rollback',
  ])('%s --help exits 0', async (command) => {
    const io = offlineDeps();
    const code = await runCli([command, '--help'], io.deps);
    expect(code).toBe(EXIT.ok);
    expect(io.stdout()).toContain(`Usage: gsm-rotator ${command}`);
    // The global options are listed on every command, with their meaning.
    expect(io.stdout()).toMatch(/Global Options:\n/);
    for (const option of ['--json', '--project <id>', '--location <region>']) {
      expect(io.stdout()).toContain(option);
    }
  });

  it('documents adopt as a dry run with the terraform route, and rollback with its refusals', async () => {
    const adopt = offlineDeps();
    await runCli(['adopt', '--help'], adopt.deps);
    const adoptHelp = adopt.stdout().replace(/\s+/g, ' ');
    expect(adoptHelp).toContain('Dry run by default');
    expect(adoptHelp).toContain(
      'terraform import \'module.gsm_rotator.google_secret_manager_secret.managed["NAME"]\'',
    );
    const rollback = offlineDeps();
    await runCli(['rollback', '--help'], rollback.deps);
    const rollbackHelp = rollback.stdout().replace(/\s+/g, ' ');
    expect(rollbackHelp).toContain('Only alternating-users and dual-password, before retirement');
    expect(rollbackHelp).toContain('5 when refused');
  });

  it('says on rotate --help that --requested-by is a claim defaulting to the Google identity', async () => {
    const io = offlineDeps();
    await runCli(['rotate', '--help'], io.deps);
    expect(io.stdout().replace(/\s+/g, ' ')).toContain(
      'who asks, recorded as a claim (not verified) with the rotation (default: the signed-in Google identity, else $USER)',
    );
  });

  it.each<[string, string[], RegExp]>([
    ['an unknown command', ['rotat', 'orders-db'], /unknown command 'rotat'/],
    ['an unknown option', ['status', '--verbose'], /unknown option '--verbose'/],
    ['a missing secret argument', ['history'], /missing required argument 'secret'/],
    ['no command at all', [], /Usage: gsm-rotator/],
    ['a bad --timeout', ['rotate', 'orders-db', '--timeout', 'soon'], /--timeout: not a duration/],
    ['a zero --timeout', ['rotate', 'orders-db', '--timeout', '0s'], /--timeout: not a duration/],
    [
      'a bad --limit',
      ['history', 'orders-db', '--limit', '-3'],
      /--limit: not a positive whole number/,
    ],
    [
      'a bad --overdue-margin',
      ['status', '--overdue-margin', '1w'],
      /--overdue-margin: not a duration/,
    ],
    ['a bad secret id', ['status', 'orders db'], /not a secret id: orders db/],
    ['a malformed full name', ['check', 'projects/p/secret/x'], /not a secret name/],
    [
      'a bad project',
      ['status', '--project', 'Demo_Project'],
      /--project: not a Google Cloud project id/,
    ],
    [
      'a bad location',
      ['status', '--location', 'Europe West'],
      /--location: not a Google Cloud location/,
    ],
    ['a bad topic', ['rotate', 'orders-db', '--topic', 'a b'], /--topic: not a topic id/],
    [
      'a --reason over 500 characters',
      ['rotate', 'orders-db', '--reason', 'x'.repeat(501)],
      /--reason: Too big/,
    ],
    ['retire without --dry-run', ['retire'], /retire only previews: add --dry-run/],
    [
      'adopt with an unknown engine',
      [
        'adopt',
        'orders-db',
        '--engine',
        'oracle',
        '--strategy',
        'single-user',
        '--admin-secret',
        'self',
      ],
      /--engine: one of postgres, mysql, mariadb: oracle/,
    ],
    [
      'adopt with only some connection fields',
      [
        'adopt',
        'orders-db',
        '--engine',
        'postgres',
        '--strategy',
        'single-user',
        '--admin-secret',
        'self',
        '--host',
        'db',
      ],
      /--host, --database and --username \(and optionally --port\) convert a plain password together/,
    ],
    ['rollback without --reason', ['rollback', 'orders-db'], /required option '--reason <text>'/],
    [
      'rollback with a blank --reason',
      ['rollback', 'orders-db', '--reason', ' '],
      /--reason: say why/,
    ],
  ])('rejects %s with exit 2 and one clear line', async (_what, argv, message) => {
    // Prepare
    const io = offlineDeps();
    // Act
    const code = await runCli(argv, io.deps);
    // Assess
    expect(code).toBe(EXIT.usage);
    expect(io.stderr()).toMatch(message);
    expect(io.stdout()).toBe('');
  });

  it('asks for a project when none is given or set in the environment', async () => {
    const io = offlineDeps({});
    const code = await runCli(['status', 'orders-db'], io.deps);
    expect(code).toBe(EXIT.usage);
    expect(io.stderr()).toBe(
      'error: no project: pass --project or set GCP_PROJECT, GOOGLE_CLOUD_PROJECT, CLOUDSDK_CORE_PROJECT (or name the secret in full: projects/P/secrets/S)\n',
    );
  });

  it('reads a bad ROTATOR_OVERDUE_MARGIN as a usage error naming the variable', async () => {
    const io = offlineDeps({ GCP_PROJECT: 'demo-project', ROTATOR_OVERDUE_MARGIN: 'late' });
    const code = await runCli(['retire', '--dry-run'], io.deps);
    expect(code).toBe(EXIT.usage);
    expect(io.stderr()).toContain('ROTATOR_OVERDUE_MARGIN: not a duration');
  });

  it('reports an unreadable --logs file as a usage error before any network call', async () => {
    const io = offlineDeps();
    io.deps.readFile = async () => {
      throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    };
    const code = await runCli(['history', 'orders-db', '--logs', '/nope.json'], io.deps);
    expect(code).toBe(EXIT.usage);
    expect(io.stderr()).toBe('error: --logs: cannot read /nope.json (ENOENT)\n');
  });
});
