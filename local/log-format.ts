import { z } from 'zod';

/**
 * The local stack's readable view of Cloud Logging JSON lines: one short line per entry with the
 * time, the function, the event (or message), the secret's short id and the rotation id. Only a
 * fixed list of scalar fields is shown, so nothing the logger did not mean to print (and no value:
 * the lines carry none) can appear.
 */
const LABELS_KEY = 'logging.googleapis.com/labels';

export const LogEntrySchema = z
  .object({
    severity: z.string().default('DEFAULT'),
    message: z.string().default(''),
    time: z.string().optional(),
    event: z.string().optional(),
    [LABELS_KEY]: z.record(z.string(), z.string()).optional(),
  })
  .loose();
export type LogEntry = z.output<typeof LogEntrySchema>;

/** A Cloud Logging JSON line, or undefined for anything else (a stack trace, a framework banner). */
export function parseLogLine(line: string): LogEntry | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed = LogEntrySchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export const labelsOf = (entry: LogEntry): Record<string, string> => entry[LABELS_KEY] ?? {};

/** `projects/P/secrets/S` → `S` (regional: `L/S`). */
export function shortSecret(name: string | undefined): string {
  if (!name) return '';
  const m = /^projects\/[^/]+\/(?:locations\/([^/]+)\/)?secrets\/([^/]+)/.exec(name);
  if (!m) return name;
  return m[1] ? `${m[1]}/${m[2]}` : (m[2] ?? name);
}

/** Rotation ids are shown in full: they are what Logs Explorer and `history` know them by. */
const ROTATION_ID_WIDTH = 24;

// Scalar details worth a glance, in this order. Never a free-form object.
const DETAIL_FIELDS = [
  'fromVersion',
  'toVersion',
  'version',
  'durationMs',
  'attempt',
  'done',
  'skipped',
  'failed',
  'actions',
  'secrets',
] as const;

/** Entries the default view leaves out: the noise of an idle pipeline. */
export function isNoise(entry: LogEntry): boolean {
  if (entry.severity === 'DEBUG') return true;
  if (entry.event === 'retire.tick') {
    return entry.actions === 0 && entry.failures === 0;
  }
  return entry.event === 'event.ignored';
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

function clockTime(iso: string | undefined, now: () => number): string {
  const d = iso ? new Date(iso) : new Date(now());
  return Number.isNaN(d.getTime()) ? '--:--:--' : d.toTimeString().slice(0, 8);
}

// ANSI colours for the severity mark on a terminal: yellow for WARNING, red for worse.
const YELLOW = '\u001b[33m';
const RED = '\u001b[31m';
const RESET = '\u001b[0m';

export interface FormatOptions {
  now?: () => number;
  /** Colour WARNING and ERROR (a terminal that wants colour; see `wantsColour`). */
  colour?: boolean;
}

/** Colour on a terminal, unless NO_COLOR is set (https://no-color.org) or TERM=dumb. */
export function wantsColour(isTTY: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  return isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

export function formatEntry(source: string, entry: LogEntry, options: FormatOptions = {}): string {
  const now = options.now ?? Date.now;
  const labels = labelsOf(entry);
  const secret = labels.secret ?? (typeof entry.secret === 'string' ? entry.secret : undefined);
  const details = DETAIL_FIELDS.flatMap((k) => {
    const v = entry[k];
    if (k === 'attempt' && v === 1) return [];
    return typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean'
      ? [`${k}=${v}`]
      : [];
  });
  const error = entry.error as { message?: unknown } | undefined;
  if (entry.severity !== 'INFO' && typeof error?.message === 'string') {
    details.push(`error=${JSON.stringify(error.message.slice(0, 200))}`);
  }
  const severe = ['ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY'].includes(entry.severity);
  const mark =
    severe || entry.severity === 'WARNING'
      ? options.colour
        ? `${severe ? RED : YELLOW}${entry.severity}${RESET} `
        : `${entry.severity} `
      : '';
  // Consumer lines name their target (job:4242, pipeline:…) right after the message.
  const target = typeof entry.target === 'string' ? ` ${entry.target}` : '';
  return [
    clockTime(entry.time, now),
    pad(source, 16),
    pad(entry.event ?? '', 20),
    pad(shortSecret(secret), 12),
    pad(labels.rotation_id ?? '', ROTATION_ID_WIDTH),
    `${mark}${entry.message}${target}${details.length > 0 ? ` (${details.join(' ')})` : ''}`,
  ].join(' ');
}

/** A line that is not a log entry (framework banner, stack trace), shown as it came. */
export function formatRaw(source: string, line: string, now: () => number = Date.now): string {
  return `${clockTime(undefined, now)} ${pad(source, 16)} | ${line}`;
}
