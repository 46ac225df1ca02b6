import { describeError } from '../errors';
import { REDACTED, Redactor } from './redactor';

/**
 * Structured logging in Cloud Logging's JSON format: one object per line, `severity`, `message`,
 * and `logging.googleapis.com/labels` (string → string), so that `labels.rotation_id="…"` finds a
 * rotation's whole story in Logs Explorer.
 */
export const SEVERITIES = ['DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type LogFields = Record<string, unknown>;
export type LogLabels = Record<string, string>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  notice(message: string, fields?: LogFields): void;
  warning(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  critical(message: string, fields?: LogFields): void;
  /** A logger whose lines carry these labels (and fields) too. */
  child(labels: LogLabels, fields?: LogFields): Logger;
}

export interface LogSink {
  write(line: string): void;
}

export const stdoutSink: LogSink = { write: (line) => process.stdout.write(`${line}\n`) };

export interface LoggerOptions {
  sink?: LogSink;
  redactor?: Redactor;
  minSeverity?: Severity;
  labels?: LogLabels;
  fields?: LogFields;
  now?: () => number;
}

const LABELS_KEY = 'logging.googleapis.com/labels';

// Keys whose values are never written, whatever they hold.
const SENSITIVE_KEY =
  /pass(word)?|pwd|token|authori[sz]ation|secret_?value|client_?secret|payload|dsn|private_?key|cookie|credential/i;

function sanitize(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[depth]';
  if (value instanceof Error) return describeError(value);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => sanitize(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SENSITIVE_KEY.test(k) ? REDACTED : sanitize(v, depth + 1);
    }
    return out;
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export function parseSeverity(value: string | undefined, fallback: Severity = 'INFO'): Severity {
  const upper = value?.toUpperCase();
  return (SEVERITIES as readonly string[]).includes(upper ?? '') ? (upper as Severity) : fallback;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const sink = options.sink ?? stdoutSink;
  const redactor = options.redactor ?? new Redactor();
  const min = SEVERITIES.indexOf(options.minSeverity ?? parseSeverity(process.env.LOG_LEVEL));
  const labels = options.labels ?? {};
  const baseFields = options.fields ?? {};
  const now = options.now ?? Date.now;

  const write = (severity: Severity, message: string, fields?: LogFields) => {
    if (SEVERITIES.indexOf(severity) < min) return;
    const entry: Record<string, unknown> = {
      severity,
      message,
      time: new Date(now()).toISOString(),
      ...(sanitize({ ...baseFields, ...fields }) as Record<string, unknown>),
    };
    if (Object.keys(labels).length > 0) entry[LABELS_KEY] = labels;
    sink.write(redactor.scrub(JSON.stringify(entry)));
  };

  return {
    debug: (m, f) => write('DEBUG', m, f),
    info: (m, f) => write('INFO', m, f),
    notice: (m, f) => write('NOTICE', m, f),
    warning: (m, f) => write('WARNING', m, f),
    error: (m, f) => write('ERROR', m, f),
    critical: (m, f) => write('CRITICAL', m, f),
    child: (more, fields) =>
      createLogger({
        sink,
        redactor,
        minSeverity: SEVERITIES[min] ?? 'INFO',
        labels: { ...labels, ...more },
        fields: { ...baseFields, ...fields },
        now,
      }),
  };
}

/** A sink that keeps lines in memory, for tests and for the CLI's log reader. */
export function memorySink(): LogSink & { lines: string[]; entries(): Record<string, unknown>[] } {
  const lines: string[] = [];
  return {
    lines,
    write: (line) => lines.push(line),
    entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
