import { ALIASES, MANAGED_FILTER } from '../../shared/config/annotations';
import { formatDuration } from '../../shared/config/duration';
import { readRefreshRecord } from '../../shared/consumers/refresh-record';
import { checkOverdue } from '../../shared/retirement/overdue';
import { consumerIdsOf } from '../../shared/retirement/retire-secret';
import { readHistory, readState } from '../../shared/rotation/state';
import { describeSchedule, rfc3339InZone, wallTimeInZone } from '../../shared/schedule/describe';
import { readPause } from '../../shared/schedule/pause';
import { nextTimes, readSchedule } from '../../shared/schedule/schedule';
import type { SecretSnapshot } from '../../shared/secrets/secret-store';
import type { CommandContext } from '../context';
import { EXIT, type ExitCode } from '../exit-codes';
import { findSecret, managedConfig, tryConfig } from '../find-secret';
import { formatTime, isoTime } from '../output';
import { displayName, parentsOf } from '../scope';

export const SECRET_STATES = [
  'ok',
  'paused',
  'rotating',
  'failed',
  'overdue',
  'invalid-config',
] as const;
export type SecretState = (typeof SECRET_STATES)[number];

/** One managed secret as `status` shows it (also its `--json` shape). */
export interface SecretStatus {
  name: string;
  engine: string | null;
  strategy: string | null;
  versions: { current: number | null; previous: number | null };
  /**
   * The login of a credential a rotation staged and has not promoted: one in flight, or one that
   * ended unresolved (the database may already accept it; the staging secret holds its only
   * copy). Null otherwise. A login name, never a value.
   */
  pendingLogin: string | null;
  lastRotation: {
    id: string;
    outcome: string;
    trigger: string;
    requestedBy: string | null;
    completedAt: string | null;
  } | null;
  nextRotation: string | null;
  state: SecretState;
  /** Why the state is not ok (failed, overdue, rotating, invalid config). */
  reason: string | null;
  /** Consumers that confirmed their refresh for the version `current` points at. */
  consumers: { confirmed: number; total: number };
  /** The cron schedule (`rotator.schedule`), with the next three times in its zone (RFC 3339). */
  schedule: {
    expression: string;
    timeZone: string;
    window: string;
    description: string;
    next: string[];
  } | null;
  /** Who paused scheduled rotations, when and why (`gsm-rotator pause`): a claim, not an identity. */
  paused: { by: string; at: string | null; reason: string } | null;
}

/** How many upcoming scheduled times `status` shows. */
export const NEXT_TIMES_SHOWN = 3;

/** The status of one secret, from its own annotations and aliases (no further reads). */
export function secretStatus(
  snapshot: SecretSnapshot,
  now: number,
  overdueMarginMs: number,
): SecretStatus {
  const alias = (name: string) => snapshot.aliases[name] ?? null;
  const versions = {
    current: alias(ALIASES.current),
    previous: alias(ALIASES.previous),
  };
  const last = readHistory(snapshot.annotations)[0];
  const state = readState(snapshot.annotations);
  const r = state.rotation;
  const base = {
    name: snapshot.name,
    versions,
    // Staged and not discarded: in flight, or failed unresolved (a clean failure discarded it).
    pendingLogin:
      r?.staged !== undefined &&
      (state.status === 'rotating' || (state.status === 'failed' && r.unresolved === true))
        ? (r.pendingUsername ?? null)
        : null,
    lastRotation: last
      ? {
          id: last.id,
          outcome: last.outcome,
          trigger: last.trigger,
          requestedBy: last.requestedBy ?? null,
          completedAt: isoTime(last.completedAt),
        }
      : null,
    nextRotation: isoTime(snapshot.rotation?.nextRotationTime),
    schedule: scheduleOf(snapshot, now),
    paused: pauseOf(snapshot),
  };
  const { config, problem } = tryConfig(snapshot);
  if (!config) {
    return {
      ...base,
      engine: null,
      strategy: null,
      state: 'invalid-config',
      reason: problem,
      consumers: { confirmed: 0, total: 0 },
    };
  }

  const overdue = checkOverdue(snapshot, now, overdueMarginMs);
  let secretState: SecretState = 'ok';
  let reason: string | null = null;
  if (state.status === 'failed') {
    secretState = 'failed';
    reason = overdue.overdue ? overdue.reason : `last rotation failed: ${r?.error ?? 'unknown'}`;
  } else if (overdue.overdue) {
    secretState = 'overdue';
    reason = overdue.expectedAt
      ? `${overdue.reason} (expected ${formatTime(overdue.expectedAt)})`
      : overdue.reason;
  } else if (state.status === 'rotating' && r) {
    secretState = 'rotating';
    reason = `rotation ${r.id} at step ${r.step} (attempt ${r.attempt})`;
  } else if (base.paused) {
    secretState = 'paused';
    reason = `scheduled rotations paused by ${base.paused.by} at ${base.paused.at ?? '?'}: ${base.paused.reason}`;
  }

  const ids = consumerIdsOf(config);
  const record = readRefreshRecord(snapshot.annotations);
  const done = new Set(
    record && record.version === versions.current
      ? record.targets.filter((t) => t.status !== 'failed').map((t) => t.id)
      : [],
  );
  return {
    ...base,
    engine: config.engine,
    strategy: config.strategy,
    state: secretState,
    reason,
    consumers: { confirmed: ids.filter((id) => done.has(id)).length, total: ids.length },
  };
}

function scheduleOf(snapshot: SecretSnapshot, now: number): SecretStatus['schedule'] {
  const schedule = readSchedule(snapshot.annotations);
  if (!schedule) return null;
  return {
    expression: schedule.expression,
    timeZone: schedule.timeZone,
    window: formatDuration(schedule.windowMs),
    description: describeSchedule(schedule),
    next: nextTimes(schedule, now, NEXT_TIMES_SHOWN).map((t) =>
      rfc3339InZone(t, schedule.timeZone),
    ),
  };
}

function pauseOf(snapshot: SecretSnapshot): SecretStatus['paused'] {
  const pause = readPause(snapshot.annotations);
  return pause
    ? { by: pause.by, at: pause.at ? isoTime(pause.at) : null, reason: pause.reason }
    : null;
}

const NOT_OK: readonly SecretState[] = ['failed', 'overdue', 'invalid-config'];

/**
 * `status [SECRET]`: one managed secret, or every secret labelled `rotator=managed` in the project
 * (and `--location` regions). Exit 1 when any is failed, overdue or misconfigured.
 */
export async function runStatus(
  ctx: CommandContext,
  ref: string | undefined,
  overdueMarginMs: number,
): Promise<ExitCode> {
  const { store, clock } = ctx.deps;
  let snapshots: SecretSnapshot[];
  if (ref !== undefined) {
    const snapshot = await findSecret(store, ref, ctx.scope);
    managedConfig(snapshot);
    snapshots = [snapshot];
  } else {
    const parents = parentsOf(ctx.scope);
    snapshots = (
      await Promise.all(parents.map((p) => store.listSecrets(p, MANAGED_FILTER)))
    ).flat();
  }
  const now = clock.now();
  const statuses = snapshots.map((s) => secretStatus(s, now, overdueMarginMs));
  const ok = statuses.every((s) => !NOT_OK.includes(s.state));

  if (ctx.out.json) {
    ctx.out.document({ ok, secrets: statuses });
  } else if (statuses.length === 0) {
    ctx.out.line(
      `no managed secrets (filter ${MANAGED_FILTER}) in ${parentsOf(ctx.scope).join(', ')}`,
    );
  } else {
    printTable(ctx, statuses);
  }
  return ok ? EXIT.ok : EXIT.notOk;
}

const v = (n: number | null) => (n === null ? '-' : String(n));

function printTable(ctx: CommandContext, statuses: SecretStatus[]): void {
  ctx.out.table(
    statuses.map((s) => ({
      secret: displayName(s.name, ctx.scope),
      strategy: s.strategy ?? '-',
      engine: s.engine ?? '-',
      current: v(s.versions.current),
      previous: v(s.versions.previous),
      pending: s.pendingLogin ?? '-',
      last: s.lastRotation
        ? `${formatTime(s.lastRotation.completedAt ? Date.parse(s.lastRotation.completedAt) : undefined)} ${s.lastRotation.outcome}`
        : 'never',
      next: s.nextRotation ? formatTime(Date.parse(s.nextRotation)) : '-',
      state: s.state,
      consumers: s.consumers.total === 0 ? '-' : `${s.consumers.confirmed}/${s.consumers.total}`,
    })),
    [
      { key: 'secret', header: 'SECRET' },
      { key: 'strategy', header: 'STRATEGY' },
      { key: 'engine', header: 'ENGINE' },
      { key: 'current', header: 'CURRENT' },
      { key: 'previous', header: 'PREVIOUS' },
      { key: 'pending', header: 'PENDING LOGIN' },
      { key: 'last', header: 'LAST ROTATION' },
      { key: 'next', header: 'NEXT ROTATION' },
      { key: 'state', header: 'STATE' },
      { key: 'consumers', header: 'CONSUMERS' },
    ],
  );
  const explained = statuses.filter((s) => s.reason !== null || s.schedule !== null);
  if (explained.length > 0) ctx.out.line();
  for (const s of explained) {
    const name = displayName(s.name, ctx.scope);
    if (s.schedule) {
      const zone = s.schedule.timeZone;
      const next = s.schedule.next.map((t) => wallTimeInZone(Date.parse(t), zone)).join(', ');
      ctx.out.line(`${name}: schedule: ${s.schedule.description}; next: ${next || 'never'}`);
    }
    if (s.reason !== null) ctx.out.line(`${name}: ${s.state}: ${s.reason}`);
  }
}
