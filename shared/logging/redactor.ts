/**
 * Value-based redaction: every secret value the process handles (generated passwords, payloads it
 * read, tokens) is registered here, and every log line is scrubbed of them before it is written.
 * Key-based redaction in the logger is the first line of defence; this catches a value that slipped
 * into a message or an error text by another route.
 *
 * A value cut short by someone else (a server that truncates its error text, a limit on a field)
 * is still scrubbed: any run of at least MIN_LENGTH characters that begins a registered value is
 * replaced, so at most MIN_LENGTH - 1 leading characters of a secret can survive a cut. JSON
 * objects and arrays (whole payloads) are the exception: their leading characters are structure
 * (`{"host":"`) that honest lines share, so they are scrubbed whole only; the secret fields inside
 * them are registered on their own (secret-store's registerPayload) and get prefix scrubbing.
 */
const MIN_LENGTH = 6;
const MAX_VALUES = 10_000;
export const REDACTED = '[REDACTED]';

export class Redactor {
  // Value → whether its prefixes are scrubbed too. Insertion-ordered, so the oldest values fall
  // out first once the cap is reached.
  private readonly values = new Map<string, boolean>();

  add(value: string | undefined | null): void {
    if (!value || value.length < MIN_LENGTH) return;
    const prefixes = !/^\s*[[{]/.test(value);
    this.values.delete(value);
    this.values.set(value, prefixes);
    if (this.values.size > MAX_VALUES) {
      const oldest = this.values.keys().next().value;
      if (oldest !== undefined) this.values.delete(oldest);
    }
    // A value also appears JSON-escaped inside serialized lines.
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) this.values.set(escaped, prefixes);
  }

  scrub(text: string): string {
    let out = text;
    for (const [value, prefixes] of this.values) {
      out = prefixes ? scrubPrefixes(out, value) : out.split(value).join(REDACTED);
    }
    return out;
  }
}

/** Replace every run of MIN_LENGTH or more characters of `text` that begins `value`. */
function scrubPrefixes(text: string, value: string): string {
  const head = value.slice(0, MIN_LENGTH);
  let from = 0;
  let at = text.indexOf(head);
  if (at < 0) return text;
  let out = '';
  while (at >= 0) {
    let end = at + head.length;
    while (end - at < value.length && text[end] === value[end - at]) end++;
    out += text.slice(from, at) + REDACTED;
    from = end;
    at = text.indexOf(head, from);
  }
  return out + text.slice(from);
}
