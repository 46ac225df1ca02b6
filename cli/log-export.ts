import { z } from 'zod';

/**
 * Cloud Logging entries exported by an operator, for `history --logs FILE`. Accepted shapes:
 * - JSON lines of our own raw log lines (what the functions write to stdout: `severity`,
 *   `message`, `time`, `logging.googleapis.com/labels`, fields such as `event`);
 * - LogEntry exports (`gcloud logging read --format=json`, a JSON array, or one LogEntry per line
 *   from a sink or Logs Explorer download): `jsonPayload` holds our fields, `labels` the labels.
 */
export interface ExportedLogLine {
  time?: number;
  severity: string;
  message: string;
  event?: string;
  secret?: string;
  rotationId?: string;
  /** `rotation.step` lines: which step, and how long it took. */
  step?: string;
  durationMs?: number;
}

const LABELS_KEY = 'logging.googleapis.com/labels';
const Labels = z.record(z.string(), z.string());
const Payload = z
  .object({
    severity: z.string().optional(),
    message: z.string().optional(),
    time: z.string().optional(),
    event: z.string().optional(),
    secret: z.string().optional(),
    step: z.string().optional(),
    durationMs: z.number().optional(),
    [LABELS_KEY]: Labels.optional(),
  })
  .loose();
const LogEntry = z
  .object({
    jsonPayload: Payload,
    labels: Labels.optional(),
    severity: z.string().optional(),
    timestamp: z.string().optional(),
  })
  .loose();

function toLine(raw: unknown): ExportedLogLine | undefined {
  const entry = LogEntry.safeParse(raw);
  const payload = entry.success ? entry.data.jsonPayload : Payload.safeParse(raw).data;
  // A raw line is ours only if it has the logger's two fixed fields.
  if (
    !payload ||
    (!entry.success && (payload.severity === undefined || payload.message === undefined))
  )
    return undefined;
  const labels = { ...(payload[LABELS_KEY] ?? {}), ...(entry.data?.labels ?? {}) };
  const timeText = entry.data?.timestamp ?? payload.time;
  const time = timeText === undefined ? Number.NaN : Date.parse(timeText);
  const secret = labels.secret ?? payload.secret;
  const rotationId = labels.rotation_id;
  return {
    ...(Number.isFinite(time) ? { time } : {}),
    severity: entry.data?.severity ?? payload.severity ?? 'DEFAULT',
    message: payload.message ?? '',
    ...(payload.event === undefined ? {} : { event: payload.event }),
    ...(secret === undefined ? {} : { secret }),
    ...(rotationId === undefined ? {} : { rotationId }),
    ...(payload.step === undefined ? {} : { step: payload.step }),
    ...(payload.durationMs === undefined ? {} : { durationMs: payload.durationMs }),
  };
}

/** Every readable entry, oldest first, and how many lines were not log entries. */
export function parseLogExport(text: string): { lines: ExportedLogLine[]; ignored: number } {
  let records: unknown[];
  let ignored = 0;
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed = JSON.parse(trimmed) as unknown;
      records = Array.isArray(parsed) ? parsed : [];
    } catch {
      return { lines: [], ignored: 1 };
    }
  } else {
    records = [];
    for (const line of trimmed.split(/\r?\n/)) {
      if (line.trim() === '') continue;
      try {
        records.push(JSON.parse(line) as unknown);
      } catch {
        ignored++;
      }
    }
  }
  const lines: ExportedLogLine[] = [];
  for (const r of records) {
    const line = toLine(r);
    if (line) lines.push(line);
    else ignored++;
  }
  // Exports come newest first (gcloud) or in any order; Array.sort is stable, so lines without a
  // time keep their relative order, after the timed ones.
  const key = (l: ExportedLogLine) => l.time ?? Number.MAX_SAFE_INTEGER;
  lines.sort((a, b) => key(a) - key(b));
  return { lines, ignored };
}
