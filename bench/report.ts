import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { ColdStartResult } from './cold-start';
import type { FleetResult } from './fleet';
import type { FleetQuotaResult } from './fleet-quota';
import type { LatencyResult } from './latency';
import type { Summary } from './stats';
import type { ZeroDowntimeRun } from './zero-downtime';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
}

export interface BenchReport {
  date: string;
  commit: string;
  /** Uncommitted changes in the measured code when the bench ran. */
  dirty: boolean;
  quick: boolean;
  machine: Machine;
  pubsub: string;
  durationS: number;
  latency: LatencyResult;
  coldStart: ColdStartResult;
  fleet: FleetResult;
  fleetQuota: FleetQuotaResult;
  zeroDowntime: ZeroDowntimeRun[];
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

export function gitCommit(cwd: string): { sha: string; dirty: boolean } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
  try {
    const sha = git('rev-parse', '--short', 'HEAD');
    const dirty =
      git(
        'status',
        '--porcelain',
        '--untracked-files=no',
        '--',
        'functions',
        'shared',
        'bench',
        'emulator',
        'local',
      ) !== '';
    return { sha, dirty };
  } catch {
    return { sha: 'unknown', dirty: true };
  }
}

const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v} ms`);
const row = (name: string, s: Summary) =>
  `| ${name} | ${ms(s.median)} | ${ms(s.p95)} | ${ms(s.min)} | ${ms(s.max)} | ${s.n} |`;
const HEAD = '| | median | p95 | min | max | n |\n|---|---:|---:|---:|---:|---:|';

export function toMarkdown(r: BenchReport): string {
  const l = r.latency;
  const c = r.coldStart;
  const f = r.fleet;
  const q = r.fleetQuota;
  return `# gsm-rotator benchmark, ${r.date.slice(0, 10)}${r.quick ? ' (quick)' : ''}

- Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, ${r.machine.os}, Node ${r.machine.node}
- Commit: ${r.commit}${r.dirty ? ' (with uncommitted changes)' : ''}, run at ${r.date}, took ${r.durationS} s
- Servers: throwaway PostgreSQL (scram-sha-256) and MariaDB on the same machine, the Secret Manager
  emulator through the official client, Pub/Sub: ${r.pubsub}

## (a) Rotation latency, end to end

One alternating-users PostgreSQL secret rotated ${l.rotations} times (after ${l.warmup} warm-up) through
the deployed rotateSecret handler: Eventarc-shaped CloudEvent in, promoted and announced on
rotation-events when it returns. The floor is the five calls no rotation can avoid (admin login,
ALTER ROLE, a login with the new password, AddSecretVersion, the alias UpdateSecret), made
directly, interleaved with the rotations.

${HEAD}
${row('rotation', l.rotation)}
${row('floor', l.floor)}
${Object.entries(l.floorParts)
  .map(([k, s]) => row(`floor: ${k}`, s))
  .join('\n')}

**Ratio rotation / floor: ${l.ratioMedian}× at the median, ${l.ratioP95}× at p95.** Peak database
connections during one rotation: ${l.peakConnectionsPerRotation}.

## (b) Cold start

Real functions-framework processes from the compiled build, ${c.runs} of each, alternating.

${HEAD}
${row('listening: rotateSecret', c.listen.rotateSecret)}
${row('listening: trivial function', c.listen.trivial)}
${row('first event handled: rotateSecret', c.firstEvent.rotateSecret)}
${row('first event handled: trivial function', c.firstEvent.trivial)}
${row('first rotation on a cold process', c.firstRotation)}
${row('require(functions/index.js)', c.loadEntryMs)}

**Ratio rotateSecret / trivial: ${c.listen.ratio}× to listen, ${c.firstEvent.ratio}× to the first
event handled.** The first event is one rotateSecret acknowledges without work (a
SECRET_VERSION_ADD notification). Heavy modules loaded by the entry point:
${c.heavyModulesAtLoad.length === 0 ? 'none' : c.heavyModulesAtLoad.join(', ')}; after the first rotation: ${c.heavyModulesAfterRotation.join(', ') || 'none'}.
A cold process's first rotation (${ms(c.firstRotation.median)}) against a warm one (${ms(l.rotation.median)}) is the price of
loading them on first use.

## (c) Fleet

${f.secrets} alternating-users PostgreSQL secrets due at once (one SECRET_ROTATE each), handled by one
instance with at most ${f.concurrency} rotations in flight (mapWithConcurrency, ROTATOR_DB_CONCURRENCY).

| wall time | rotations/s | succeeded | peak DB connections | allowed (cap × per-rotation peak) |
|---:|---:|---:|---:|---:|
| ${ms(f.wallMs)} | ${f.rotationsPerSecond} | ${f.succeeded}/${f.secrets} | ${f.peakConnections} | ${f.allowedConnections} (${f.concurrency} × ${l.peakConnectionsPerRotation}) ${f.withinCap ? '✓' : '✗ EXCEEDED'} |

Peak connections: pg_stat_activity polled every 5 ms (${f.monitorSamples} samples) on the monitor's own
connection, which is not counted; a connection shorter than a poll can be missed.

## (e) Fleet under Secret Manager's quotas

${q.secrets} alternating-users PostgreSQL secrets sharing one next_rotation_time (${q.secrets} SECRET_ROTATE at
once), the emulator enforcing production's quotas on a real 60 s minute (600 reads and 600 writes
per project per minute; 2 AddSecretVersion+UpdateSecret per second per secret), ${q.instances} function
instances × ${q.concurrencyPerInstance} event(s) each, Pub/Sub redelivery with backoff 10 s → 600 s and
a dead letter after 10 deliveries.

| time to all rotated | quota floor | ratio (target ≤ 1.25) | completed | failed rotations | dead-lettered | attempts > 1 | RESOURCE_EXHAUSTED | redeliveries | peak DB connections |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| ${ms(q.wallMs)} | ${ms(q.floorMs)} | ${q.ratio}× | ${q.completed}/${q.secrets} | ${q.failedRotations} | ${q.deadLettered} | ${q.extraAttempts} | ${q.quotaRefusals} | ${q.redeliveries} | ${q.peakConnections} |

Floor = max(writes, reads) per rotation × N ÷ 600 per minute, with the per-rotation figures
measured on one unthrottled rotation in this run (${q.writesPerRotation} writes, ${q.readsPerRotation} reads).

### Secret Manager calls (measured in this run)

| operation | read | write | access |
|---|---:|---:|---:|
| one successful alternating-users rotation | ${q.calls.rotation.read} | ${q.calls.rotation.write} | ${q.calls.rotation.access} |
| retire tick over every managed secret of the run, just after the fleet rotated (lists each, records its next check) | ${q.calls.retireTickAfterChange.read} | ${q.calls.retireTickAfterChange.write} | ${q.calls.retireTickAfterChange.access} |
| a retire tick when nothing changed since the tick before (ListSecrets pages only) | ${q.calls.idleRetireTick.read} | ${q.calls.idleRetireTick.write} | ${q.calls.idleRetireTick.access} |

## (d) Zero downtime

A client opens connection after connection, each with the credential it has just read from the
\`current\` alias (official client, by alias), while rotations run back to back.

| engine | strategy | rotations | connections | failed logins | other errors | target |
|---|---|---:|---:|---:|---:|---|
${r.zeroDowntime
  .map(
    (z) =>
      `| ${z.engine} | ${z.strategy} | ${z.rotations} | ${z.attempts} | ${z.failedLogins} | ${z.otherErrors} | ${z.target === '0' ? '0' : 'reported'} |`,
  )
  .join('\n')}

**Long-lived consumer** (a continuous Databricks job in the fake workspace): reads \`latest\` once
when its run starts, keeps opening connections with that credential, and reads again only in a
new run, after refreshConsumers (delivered the rotation's outcome) cancelled the old one.
\`previous\` is retired between rotations, once the job runs again (the grace window shortened for
the bench). *Refresh delay*: median time from a rotation's return to the job running again.

| engine | strategy | connections | failed logins | other errors | restarts | refresh delay | target |
|---|---|---:|---:|---:|---:|---:|---|
${r.zeroDowntime
  .map(
    (z) =>
      `| ${z.engine} | ${z.strategy} | ${z.longLived.attempts} | ${z.longLived.failedLogins} | ${z.longLived.otherErrors} | ${z.longLived.restarts} | ${ms(z.longLived.refreshDelayMs)} | ${z.target === '0' ? '0' : 'reported'} |`,
  )
  .join('\n')}

single-user changes the one password at \`set\`: a client that read \`current\` before the promote
holds a password the database no longer takes until it reads again.
`;
}
