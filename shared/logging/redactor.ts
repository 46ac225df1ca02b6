/**
 * Value-based redaction: every secret value the process handles (generated passwords, payloads it
 * read, tokens) is registered here, and every log line is scrubbed of them before it is written.
 * Key-based redaction in the logger is the first line of defence; this catches a value that slipped
 * into a message or an error text by another route.
 */
const MIN_LENGTH = 6;
const MAX_VALUES = 10_000;
export const REDACTED = '[REDACTED]';

export class Redactor {
  // Insertion-ordered, so the oldest values fall out first once the cap is reached.
  private readonly values = new Set<string>();

  add(value: string | undefined | null): void {
    if (!value || value.length < MIN_LENGTH) return;
    this.values.delete(value);
    this.values.add(value);
    if (this.values.size > MAX_VALUES) {
      const oldest = this.values.values().next().value;
      if (oldest !== undefined) this.values.delete(oldest);
    }
    // A value also appears JSON-escaped inside serialized lines.
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) this.values.add(escaped);
  }

  scrub(text: string): string {
    let out = text;
    for (const v of this.values) {
      if (out.includes(v)) out = out.split(v).join(REDACTED);
    }
    return out;
  }
}
