import path from 'node:path';
import { DATABASE_URL_VARIABLE } from './database';
import type { LocalStack } from './local-stack';
import { TOPICS } from './local-stack';
import { shortSecret } from './log-format';

/**
 * The one `rotate` command line the local stack suggests: the banner prints it, and README.md and
 * docs/local-stack.md show the same line (test/unit/local/banner.test.ts checks it).
 */
export const demoRotateCommand = (secretId: string) =>
  `npm run -s cli -- rotate ${secretId} --wait --reason "trying it out"`;

/** "official emulator installed on this machine", not "official emulator (official emulator …)". */
export function pubsubDescription(kind: LocalStack['pubsub']['kind'], reason: string): string {
  const label = kind === 'official-emulator' ? 'official emulator' : 'in-process stand-in';
  return reason.includes(label) ? reason : `${label} (${reason})`;
}

export interface BannerSettings {
  periodMs: number;
  graceMs: number;
  tickMs: number;
  /** The raw JSON log file (`--log-file`), if any. */
  logFile?: string;
  cwd: string;
}

const secs = (ms: number) => `${Math.round(ms / 1000)}s`;

/** What `npm start` prints once the stack runs: what is where, and what to paste elsewhere. */
export function banner(stack: LocalStack, o: BannerSettings): string[] {
  const rel = (p: string) => path.relative(o.cwd, p) || p;
  const port = (url: string) => new URL(url).port;
  const db = stack.database;
  const demo = stack.demo ? shortSecret(stack.demo.secret) : undefined;
  const lines = [
    '',
    'gsm-rotator local stack',
    `  Secret Manager   ${stack.env.SECRET_MANAGER_EMULATOR_HOST}  emulator, state in ${rel(stack.stateFile)}`,
    `  Pub/Sub          ${stack.env.PUBSUB_EMULATOR_HOST}  ${pubsubDescription(stack.pubsub.kind, stack.pubsub.reason)}`,
    `  Functions        ${stack.functions.map((f) => `${f.target} :${port(f.url)}`).join(', ')}`,
    `                   ← ${TOPICS.secretEvents}, ${TOPICS.rotationEvents}, ${TOPICS.retireTick} (tick every ${secs(o.tickMs)}) via Eventarc bridges`,
    `  Database         ${db.engine} ${db.host}:${db.port}  ${db.source === 'throwaway' ? 'throwaway, scram-sha-256, removed on exit' : `from ${DATABASE_URL_VARIABLE} (npm start -- --cleanup removes the demo's logins)`}`,
    `  Databricks       ${stack.workspace.url}  fake workspace, continuous job 4242`,
  ];
  if (o.logFile)
    lines.push(`  Log file         ${rel(o.logFile)}  raw JSON lines (history --logs reads it)`);
  if (stack.demo && demo) {
    lines.push(
      `  Demo secret      ${demo}  ${stack.demo.created ? 'seeded' : 'reused from the state file'}: alternating-users, every ${secs(o.periodMs)}, grace ${secs(o.graceMs)}`,
    );
  }
  lines.push(
    '',
    'Use it from another terminal (paste these lines):',
    ...Object.entries(stack.env).map(([k, v]) => `  export ${k}=${v}`),
    '  npm run -s cli -- status',
    ...(demo
      ? [
          `  npm run -s cli -- history ${demo}${o.logFile ? ` --logs ${rel(o.logFile)}` : ''}`,
          `  ${demoRotateCommand(demo)}`,
        ]
      : []),
    '',
    'Ctrl-C stops everything.',
    '',
  );
  return lines;
}
