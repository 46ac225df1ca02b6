import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { banner, demoRotateCommand, pubsubDescription } from '../../../local/banner';
import type { LocalStack } from '../../../local/local-stack';
import { checkPortsFree, prepareStateDir } from '../../../local/local-stack';
import { formatEntry, parseLogLine, wantsColour } from '../../../local/log-format';

/** What the local stack prints, on a terminal and in a pipe. */
const ESC = '\u001b';
const ROOT = path.resolve(__dirname, '../../..');
const at = () => Date.parse('2026-11-29T21:14:03Z');

const line = (fields: Record<string, unknown>) => {
  const entry = parseLogLine(JSON.stringify({ time: '2026-11-29T21:14:03.000Z', ...fields }));
  if (!entry) throw new Error('not a log line');
  return entry;
};

describe('formatEntry', () => {
  const rotationId = 'rot-d0579865a1b2c3d4e5f6';
  const labels = {
    'logging.googleapis.com/labels': {
      secret: 'projects/gsm-rotator-local/secrets/demo-db',
      rotation_id: rotationId,
    },
  };

  it('shows the full rotation id, the one Logs Explorer and history know', () => {
    const text = formatEntry(
      'rotateSecret',
      line({
        severity: 'NOTICE',
        message: 'rotation completed',
        event: 'rotation.completed',
        ...labels,
      }),
      { now: at },
    );
    expect(text).toContain(` ${rotationId} rotation completed`);
  });

  it('names the target of a consumer refresh line', () => {
    const text = formatEntry(
      'refreshConsumers',
      line({
        severity: 'INFO',
        message: 'consumer done',
        target: 'job:4242',
        kind: 'job',
        durationMs: 512,
        ...labels,
      }),
      { now: at },
    );
    expect(text).toMatch(/consumer done job:4242 \(durationMs=512\)$/);
  });

  it('colours WARNING yellow and ERROR red on a terminal, and nothing in a pipe', () => {
    const warning = line({ severity: 'WARNING', message: 'rotation interrupted' });
    const error = line({ severity: 'ERROR', message: 'rotation failed' });
    expect(formatEntry('rotateSecret', warning, { now: at, colour: true })).toContain(
      `${ESC}[33mWARNING${ESC}[0m rotation interrupted`,
    );
    expect(formatEntry('rotateSecret', error, { now: at, colour: true })).toContain(
      `${ESC}[31mERROR${ESC}[0m rotation failed`,
    );
    const plain = formatEntry('rotateSecret', error, { now: at, colour: false });
    expect(plain).toContain('ERROR rotation failed');
    expect(plain).not.toContain(ESC);
  });

  it('wants colour only on a terminal without NO_COLOR or TERM=dumb', () => {
    expect(wantsColour(true, {})).toBe(true);
    expect(wantsColour(false, {})).toBe(false);
    expect(wantsColour(undefined, {})).toBe(false);
    expect(wantsColour(true, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColour(true, { TERM: 'dumb' })).toBe(false);
  });
});

describe('the banner', () => {
  const stack = (kind: LocalStack['pubsub']['kind'], reason: string) =>
    ({
      env: {
        SECRET_MANAGER_EMULATOR_HOST: '127.0.0.1:9090',
        PUBSUB_EMULATOR_HOST: '127.0.0.1:9091',
        PUBSUB_PROJECT_ID: 'gsm-rotator-local',
        GCP_PROJECT: 'gsm-rotator-local',
      },
      pubsub: { kind, reason },
      database: { engine: 'postgres', source: 'throwaway', host: '127.0.0.1', port: 9095 },
      workspace: { url: 'http://127.0.0.1:40000' },
      functions: [{ target: 'rotateSecret', url: 'http://127.0.0.1:9092/', pid: 1 }],
      stateFile: path.join(ROOT, '.local-state/secret-manager.json'),
      demo: {
        secret: 'projects/gsm-rotator-local/secrets/demo-db',
        created: true,
        databricksToken: 'x',
      },
    }) as unknown as LocalStack;
  const settings = { periodMs: 30_000, graceMs: 10_000, tickMs: 5_000, cwd: ROOT };

  it('says which Pub/Sub runs once, not "official emulator (official emulator …)"', () => {
    expect(
      pubsubDescription('official-emulator', 'official emulator installed on this machine'),
    ).toBe('official emulator installed on this machine');
    expect(
      pubsubDescription('in-process', 'no emulator found; using the in-process stand-in'),
    ).toBe('no emulator found; using the in-process stand-in');
    expect(pubsubDescription('in-process', 'REQUIRE_PUBSUB_EMULATOR=0')).toBe(
      'in-process stand-in (REQUIRE_PUBSUB_EMULATOR=0)',
    );
    const lines = banner(
      stack('official-emulator', 'official emulator installed on this machine'),
      settings,
    );
    const pubsub = lines.find((l) => l.includes('Pub/Sub')) as string;
    expect(pubsub.match(/official emulator/g)).toHaveLength(1);
  });

  it('suggests the one rotate command line README.md and docs/local-stack.md show', () => {
    const command = demoRotateCommand('demo-db');
    const lines = banner(stack('in-process', 'x; using the in-process stand-in'), settings);
    expect(lines).toContain(`  ${command}`);
    for (const doc of ['README.md', 'docs/local-stack.md']) {
      const text = readFileSync(path.join(ROOT, doc), 'utf8');
      const suggested = [...text.matchAll(/^npm run -s cli -- rotate .*$/gm)].map((m) => m[0]);
      expect({ doc, suggested }).toEqual({ doc, suggested: [command] });
    }
  });

  it('names the log file and the history --logs line when --log-file is given', () => {
    const lines = banner(stack('in-process', 'x; using the in-process stand-in'), {
      ...settings,
      logFile: path.join(ROOT, '.local-state/functions.jsonl'),
    });
    expect(lines).toContain(
      '  npm run -s cli -- history demo-db --logs .local-state/functions.jsonl',
    );
  });
});

describe('start-up checks', () => {
  let dir: string;
  let server: Server | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gsm-local-'));
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('a second `npm start` says its ports are in use and what to do, not a database error', async () => {
    const listener = createServer();
    server = listener;
    const port = await new Promise<number>((resolve) =>
      listener.listen(0, '127.0.0.1', () => resolve((listener.address() as { port: number }).port)),
    );
    const base = port - 2;
    await expect(checkPortsFree(base, 6)).rejects.toThrow(
      `port(s) ${port} of ${base}–${base + 5} are in use: is another \`npm start\` running?`,
    );
    await expect(checkPortsFree(base, 6)).rejects.toThrow(/--port-base \d+ --state-dir/);
  });

  it('makes the state folder ignore itself in git, wherever it is', () => {
    const state = path.join(dir, 'elsewhere', 'state');
    prepareStateDir(state);
    expect(readFileSync(path.join(state, '.gitignore'), 'utf8')).toMatch(/\n\*\n$/);
    prepareStateDir(state);
    expect(existsSync(path.join(state, '.gitignore'))).toBe(true);
  });
});
