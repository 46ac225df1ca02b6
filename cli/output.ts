import type { Redactor } from '../shared/logging/redactor';

/**
 * Everything the CLI prints goes through here: readable tables for people, one JSON document for
 * scripts, and every line scrubbed of the values the process has read (payloads, passwords,
 * tokens), so a value that slipped into an error text by some other route is still never shown.
 */
export interface Output {
  readonly json: boolean;
  /** A line on stdout. */
  line(text?: string): void;
  /** A diagnostic line on stderr (never part of the JSON document). */
  note(text: string): void;
  /** The JSON document of the command (stdout, once). */
  document(value: unknown): void;
  table(rows: TableRow[], columns: TableColumn[]): void;
}

export type TableRow = Record<string, string>;
export interface TableColumn {
  key: string;
  header: string;
}

export interface OutputOptions {
  json: boolean;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  redactor: Redactor;
}

export function createOutput({ json, stdout, stderr, redactor }: OutputOptions): Output {
  return {
    json,
    line: (text = '') => stdout(`${redactor.scrub(text)}\n`),
    note: (text) => stderr(`${redactor.scrub(text)}\n`),
    document: (value) => stdout(`${redactor.scrub(JSON.stringify(value, null, 2))}\n`),
    table: (rows, columns) => {
      for (const line of renderTable(rows, columns)) stdout(`${redactor.scrub(line)}\n`);
    },
  };
}

/** Columns padded to their widest cell, two spaces apart, no trailing blanks. */
export function renderTable(rows: TableRow[], columns: TableColumn[]): string[] {
  const widths = columns.map((c) =>
    Math.max(c.header.length, ...rows.map((r) => (r[c.key] ?? '').length)),
  );
  const render = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    render(columns.map((c) => c.header)),
    ...rows.map((r) => render(columns.map((c) => r[c.key] ?? ''))),
  ];
}

/** A time as operators read it in tables: UTC to the second. */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A time in JSON documents: full ISO 8601, or null. */
export const isoTime = (ms: number | undefined): string | null =>
  ms === undefined ? null : new Date(ms).toISOString();

/** 850ms, 4.2s, 3m12s, 2h05m. */
export function formatElapsed(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`;
  const totalSeconds = Math.round(ms / 1_000);
  if (totalSeconds < 3_600) {
    return `${Math.floor(totalSeconds / 60)}m${String(totalSeconds % 60).padStart(2, '0')}s`;
  }
  const minutes = Math.floor(totalSeconds / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
