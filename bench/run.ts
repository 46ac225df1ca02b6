import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { measureColdStart } from './cold-start';
import { monitorConnections } from './connection-monitor';
import { startBenchEnvironment } from './environment';
import { measureFleet } from './fleet';
import { measureFleetUnderQuota } from './fleet-quota';
import { measureLatency } from './latency';
import { type BenchReport, describeMachine, gitCommit, toMarkdown } from './report';
import { startBenchWorkspace } from './workspace';
import { measureZeroDowntime } from './zero-downtime';

/**
 * `npm run bench`: every measurement in one run on this machine, written to
 * bench/reports/<date>-<commit>.md and .json. A script, not a test: it asserts nothing about time.
 */
const ROOT = path.resolve(__dirname, '..');
const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive whole number');
  return n;
};

const opts = new Command('npm run bench')
  .description('gsm-rotator benchmarks: latency, cold start, fleet, zero downtime')
  .option('--quick', 'a fast smoke run (small samples; report named *-quick)', false)
  .option('--rotations <n>', 'measured rotations for the latency (default 40, quick 10)', positive)
  .option('--fleet <n>', 'secrets due at once in the fleet run (default 200, quick 20)', positive)
  .option(
    '--concurrency <n>',
    'rotations in flight in the fleet run (default $ROTATOR_DB_CONCURRENCY or 4)',
    positive,
  )
  .option(
    '--quota-fleet <n>',
    'secrets sharing one next_rotation_time under quotas (default 300, quick 20; try 1000)',
    positive,
  )
  .option('--instances <n>', 'function instances in the quota fleet (default 10)', positive)
  .option('--instance-concurrency <n>', 'events one instance handles at once (default 1)', positive)
  .option('--cold-runs <n>', 'process starts per function (default 5, quick 2)', positive)
  .option('--zero-downtime-rotations <n>', 'rotations per strategy (default 20, quick 5)', positive)
  .option('--skip-build', 'use the existing build/ instead of compiling first', false)
  .option('--out <dir>', 'where reports go', path.join(ROOT, 'bench/reports'))
  .parse()
  .opts<{
    quick: boolean;
    rotations?: number;
    fleet?: number;
    concurrency?: number;
    quotaFleet?: number;
    instances?: number;
    instanceConcurrency?: number;
    coldRuns?: number;
    zeroDowntimeRotations?: number;
    skipBuild: boolean;
    out: string;
  }>();

const log = (text: string) => process.stderr.write(`[bench] ${text}\n`);

async function main(): Promise<void> {
  const started = performance.now();
  const q = opts.quick;
  const settings = {
    rotations: opts.rotations ?? (q ? 10 : 40),
    warmup: q ? 2 : 5,
    fleet: opts.fleet ?? (q ? 20 : 200),
    concurrency: opts.concurrency ?? Number(process.env.ROTATOR_DB_CONCURRENCY ?? 4),
    quotaFleet: opts.quotaFleet ?? (q ? 20 : 300),
    instances: opts.instances ?? 10,
    instanceConcurrency: opts.instanceConcurrency ?? 1,
    coldRuns: opts.coldRuns ?? (q ? 2 : 5),
    zeroDowntime: opts.zeroDowntimeRotations ?? (q ? 5 : 20),
  };
  if (!opts.skipBuild) {
    log('compiling (npm run build), so the cold start measures the current code');
    const build = spawnSync(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: ROOT,
        stdio: 'ignore',
      },
    );
    if (build.status !== 0 && !existsSync(path.join(ROOT, 'build/functions/index.js'))) {
      throw new Error('npm run build failed and build/functions/index.js does not exist');
    }
  }
  const { sha, dirty } = gitCommit(ROOT);
  log('starting PostgreSQL, Pub/Sub and the Secret Manager emulator');
  const env = await startBenchEnvironment();
  const monitor = await monitorConnections(env.postgres);
  try {
    log(`(a) latency: ${settings.rotations} rotations and floors`);
    const latency = await measureLatency(env, {
      rotations: settings.rotations,
      warmup: settings.warmup,
      peakDuring: () => monitor,
    });
    log(`(b) cold start: ${settings.coldRuns} runs`);
    const coldStart = await measureColdStart(env, { runs: settings.coldRuns });
    log(`(c) fleet: ${settings.fleet} secrets, concurrency ${settings.concurrency}`);
    const fleet = await measureFleet(env, monitor, {
      secrets: settings.fleet,
      concurrency: settings.concurrency,
      perRotationPeak: latency.peakConnectionsPerRotation,
    });
    log(
      `(e) fleet under quotas: ${settings.quotaFleet} secrets, ${settings.instances} instances × ${settings.instanceConcurrency}`,
    );
    const fleetQuota = await measureFleetUnderQuota(env, monitor, {
      secrets: settings.quotaFleet,
      instances: settings.instances,
      concurrencyPerInstance: settings.instanceConcurrency,
    });
    log(`(d) zero downtime: ${settings.zeroDowntime} rotations per strategy`);
    const zeroDowntime = [];
    const workspace = await startBenchWorkspace(env);
    try {
      let jobId = 1;
      for (const [engine, strategy] of [
        ['postgres', 'single-user'],
        ['postgres', 'alternating-users'],
        ['mariadb', 'dual-password'],
        ['mariadb', 'alternating-users'],
      ] as const) {
        zeroDowntime.push(
          await measureZeroDowntime(env, engine, strategy, workspace, {
            rotations: settings.zeroDowntime,
            pauseMs: 100,
            jobId: jobId++,
          }),
        );
      }
    } finally {
      await workspace.close();
    }
    const report: BenchReport = {
      date: new Date().toISOString(),
      commit: sha,
      dirty,
      quick: q,
      machine: describeMachine(),
      pubsub: `${env.pubsub.kind} (${env.pubsub.reason})`,
      durationS: Math.round((performance.now() - started) / 1000),
      latency,
      coldStart,
      fleet,
      fleetQuota,
      zeroDowntime,
    };
    mkdirSync(opts.out, { recursive: true });
    const base = path.join(opts.out, `${report.date.slice(0, 10)}-${sha}${q ? '-quick' : ''}`);
    const markdown = toMarkdown(report);
    writeFileSync(`${base}.md`, markdown);
    writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(markdown);
    log(`report: ${path.relative(process.cwd(), base)}.md and .json (${report.durationS} s)`);
  } finally {
    await monitor.stop().catch(() => undefined);
    await env.stop().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[bench] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
