import { type HistoryEntry, readHistory, readState } from '../../shared/rotation/state';
import type { VersionInfo } from '../../shared/secrets/secret-store';
import type { CommandContext } from '../context';
import { EXIT, type ExitCode, notFoundError, usageError } from '../exit-codes';
import { findSecret, tryConfig } from '../find-secret';
import { type ExportedLogLine, parseLogExport } from '../log-export';
import { formatElapsed, formatTime, isoTime, renderTable, type TableColumn } from '../output';

export interface HistoryOptions {
  logs?: string;
  limit?: number;
  /** Also show destroyed versions. */
  all?: boolean;
}

/**
 * A finished rotation in `--json` documents (`history`, `rotate --wait`): times ISO 8601 UTC.
 * `durationMs` is THE duration of a rotation, the same everywhere (tables, JSON, the
 * `rotation.completed`/`rotation.failed` log lines, the outcome event): from `startedAt`, when the
 * first attempt claimed the rotation, to `completedAt`, when its outcome was decided (promote, or
 * the failure); it includes retries and waits between attempts, not the announce or the refresh.
 */
export interface OutcomeView {
  id: string;
  /** `rotation`, or `rollback` (`gsm-rotator rollback`: `toVersion` holds an older credential). */
  kind: 'rotation' | 'rollback';
  trigger: string;
  requestedBy: string | null;
  /** `in-progress` for the rotation in flight. */
  outcome: string;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  fromVersion: number;
  toVersion: number | null;
  attempts: number;
  error: string | null;
  /** When retireVersions retired `fromVersion` (succeeded rotations only). */
  retiredAt: string | null;
  /** The operator's reason (rollbacks). */
  reason: string | null;
}

export function outcomeView(h: HistoryEntry): OutcomeView {
  return {
    id: h.id,
    kind: h.kind ?? 'rotation',
    trigger: h.trigger,
    requestedBy: h.requestedBy ?? null,
    outcome: h.outcome,
    startedAt: isoTime(h.startedAt),
    completedAt: isoTime(h.completedAt),
    durationMs: h.completedAt - h.startedAt,
    fromVersion: h.fromVersion,
    toVersion: h.toVersion ?? null,
    attempts: h.attempts,
    error: h.error ?? null,
    retiredAt: isoTime(h.retiredAt),
    reason: h.reason ?? null,
  };
}

/** One rotation as `history` shows it (also its `--json` shape). */
export interface RotationView extends OutcomeView {
  /** `fromVersion`'s state now, from the versions list. */
  fromVersionState: string | null;
  step?: string;
  logs?: ExportedLogLine[];
}

/**
 * `history SECRET`: the secret's rotations, newest first, from its own records (the history
 * annotation, the in-flight rotation) and its versions list; with `--logs FILE`, each rotation's
 * log lines from a Cloud Logging export.
 */
export async function runHistory(
  ctx: CommandContext,
  ref: string,
  options: HistoryOptions,
): Promise<ExitCode> {
  // Read the file first: a wrong path is a usage error, reported before any network call.
  const exported = options.logs === undefined ? undefined : await readLogs(ctx, options.logs);
  const snapshot = await findSecret(ctx.deps.store, ref, ctx.scope);
  const history = readHistory(snapshot.annotations);
  const { problem } = tryConfig(snapshot);
  if (problem !== undefined) {
    // A secret with records but a broken config still has a history worth reading.
    if (history.length === 0) throw notFoundError(problem);
    ctx.out.note(`warning: ${problem}`);
  }
  const versions = await ctx.deps.store.listVersions(snapshot.name);
  const stateOf = (n: number | undefined) => versions.find((v) => v.number === n)?.state ?? null;
  const now = ctx.deps.clock.now();

  const rotations: RotationView[] = history.map((h) => ({
    ...outcomeView(h),
    fromVersionState: stateOf(h.fromVersion),
  }));
  const state = readState(snapshot.annotations);
  const r = state.rotation;
  if (state.status === 'rotating' && r && !history.some((h) => h.id === r.id)) {
    rotations.unshift({
      id: r.id,
      kind: 'rotation',
      trigger: r.trigger,
      requestedBy: r.requestedBy ?? null,
      outcome: 'in-progress',
      startedAt: isoTime(r.startedAt),
      completedAt: null,
      durationMs: now - r.startedAt,
      fromVersion: r.baseVersion,
      toVersion: r.resultVersion ?? null,
      attempts: r.attempt,
      error: r.error ?? null,
      retiredAt: null,
      reason: r.reason ?? null,
      fromVersionState: stateOf(r.baseVersion),
      step: r.step,
    });
  }
  const shown = rotations.slice(0, options.limit ?? rotations.length);
  const listed = shownVersions(versions, options);
  if (exported) {
    for (const rotation of shown)
      rotation.logs = exported.filter((l) => l.rotationId === rotation.id);
  }

  if (ctx.out.json) {
    ctx.out.document({
      secret: snapshot.name,
      rotations: shown,
      versions: versionViews(listed, snapshot.aliases),
    });
    return EXIT.ok;
  }
  printRotations(ctx, shown, exported !== undefined);
  ctx.out.line();
  printVersions(ctx, listed, snapshot.aliases);
  const hidden = versions.filter((v) => !listed.includes(v));
  if (hidden.length > 0) {
    const destroyed = options.all ? 0 : hidden.filter((v) => v.state === 'DESTROYED').length;
    const why = [
      destroyed > 0 ? `${destroyed} destroyed (--all shows them)` : '',
      hidden.length > destroyed ? `${hidden.length - destroyed} older (beyond --limit)` : '',
    ].filter((x) => x !== '');
    ctx.out.line(`(${hidden.length} version(s) not shown: ${why.join(', ')})`);
  }
  return EXIT.ok;
}

/**
 * The versions table: newest first, destroyed versions (no payload, nothing to roll back to) only
 * with `--all`, and with `--limit N` the newest N+1 (N rotations touch N+1 versions at most when
 * each succeeded: its old and its new one).
 */
export function shownVersions(
  versions: VersionInfo[],
  options: Pick<HistoryOptions, 'limit' | 'all'>,
): VersionInfo[] {
  const kept = [...versions]
    .filter((v) => options.all === true || v.state !== 'DESTROYED')
    .sort((a, b) => b.number - a.number);
  return options.limit === undefined ? kept : kept.slice(0, options.limit + 1);
}

async function readLogs(ctx: CommandContext, path: string): Promise<ExportedLogLine[]> {
  let text: string;
  try {
    text = await ctx.deps.readFile(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw usageError(`--logs: cannot read ${path}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
  const { lines, ignored } = parseLogExport(text);
  if (ignored > 0) ctx.out.note(`note: ${ignored} line(s) of ${path} are not log entries: ignored`);
  return lines;
}

function whoAsked(r: RotationView): string {
  return r.requestedBy ? `${r.trigger} (${r.requestedBy})` : r.trigger;
}

function retired(r: RotationView): string {
  if (r.retiredAt) return formatTime(Date.parse(r.retiredAt));
  if (r.outcome !== 'succeeded') return '-';
  // Retired by hand, or by an older rotator that did not record it.
  if (r.fromVersionState && r.fromVersionState !== 'ENABLED')
    return r.fromVersionState.toLowerCase();
  return 'not yet';
}

const ROTATION_COLUMNS: TableColumn[] = [
  { key: 'when', header: 'STARTED' },
  { key: 'id', header: 'ROTATION' },
  { key: 'versions', header: 'VERSIONS' },
  { key: 'outcome', header: 'OUTCOME' },
  { key: 'duration', header: 'DURATION' },
  { key: 'who', header: 'REQUESTED BY (CLAIM)' },
  { key: 'retired', header: 'RETIRED' },
];

function printRotations(ctx: CommandContext, rotations: RotationView[], withLogs: boolean): void {
  if (rotations.length === 0) {
    ctx.out.line('no rotations recorded yet');
    return;
  }
  const [header, ...rows] = renderTable(
    rotations.map((r) => ({
      when: r.startedAt ? formatTime(Date.parse(r.startedAt)) : '-',
      id: r.id,
      versions: `${r.fromVersion} → ${r.toVersion ?? '-'}`,
      outcome:
        r.kind === 'rollback' ? 'rolled back' : r.step ? `${r.outcome} (${r.step})` : r.outcome,
      duration: formatElapsed(r.durationMs ?? undefined),
      who: whoAsked(r),
      retired: retired(r),
    })),
    ROTATION_COLUMNS,
  );
  ctx.out.line(header);
  rotations.forEach((r, i) => {
    ctx.out.line(rows[i]);
    if (r.error) ctx.out.line(`    error: ${r.error}`);
    if (r.kind === 'rollback' && r.reason) ctx.out.line(`    reason: ${r.reason}`);
    if (!withLogs) return;
    if (!r.logs || r.logs.length === 0)
      ctx.out.line('    (no log lines for this rotation in the file)');
    for (const l of r.logs ?? []) ctx.out.line(`    ${formatLogLine(l)}`);
  });
}

export function formatLogLine(l: ExportedLogLine): string {
  const time = l.time === undefined ? '-' : new Date(l.time).toISOString();
  const detail = [
    // `rotation.step` messages name their step already.
    l.step !== undefined && !l.message.includes(l.step) ? `step ${l.step}` : undefined,
    l.durationMs === undefined ? undefined : formatElapsed(l.durationMs),
  ].filter((x) => x !== undefined);
  return [time, l.severity.padEnd(7), (l.event ?? '').padEnd(18), l.message, ...detail]
    .join('  ')
    .trimEnd();
}

function versionViews(versions: VersionInfo[], aliases: Record<string, number>) {
  return versions.map((v) => ({
    number: v.number,
    state: v.state,
    createdAt: isoTime(v.createTime || undefined),
    aliases: Object.entries(aliases)
      .filter(([, n]) => n === v.number)
      .map(([a]) => a)
      .sort(),
  }));
}

function printVersions(
  ctx: CommandContext,
  versions: VersionInfo[],
  aliases: Record<string, number>,
): void {
  ctx.out.table(
    versionViews(versions, aliases).map((v) => ({
      version: String(v.number),
      state: v.state,
      created: v.createdAt ? formatTime(Date.parse(v.createdAt)) : '-',
      aliases: v.aliases.join(', '),
    })),
    [
      { key: 'version', header: 'VERSION' },
      { key: 'state', header: 'STATE' },
      { key: 'created', header: 'CREATED' },
      { key: 'aliases', header: 'ALIASES' },
    ],
  );
}
