/**
 * A proto3-JSON Timestamp string (what Pub/Sub push bodies and Eventarc's ce-time carry): UTC, with
 * 0, 3, 6 or 9 fractional digits, as few as the value needs ("…:55.749Z", never "…:55.749000000Z").
 */
export function formatTimestamp(seconds: number, nanos: number): string {
  const whole = new Date(seconds * 1000).toISOString().slice(0, 19);
  if (nanos === 0) return `${whole}Z`;
  const digits = String(nanos).padStart(9, '0');
  const trimmed = digits.endsWith('000000')
    ? digits.slice(0, 3)
    : digits.endsWith('000')
      ? digits.slice(0, 6)
      : digits;
  return `${whole}.${trimmed}Z`;
}

/** The @google-cloud/pubsub client hands out PreciseDate (a Date with micro- and nanoseconds). */
interface PreciseDateLike extends Date {
  getMicroseconds(): number;
  getNanoseconds(): number;
}

const isPrecise = (d: Date): d is PreciseDateLike =>
  typeof (d as Partial<PreciseDateLike>).getMicroseconds === 'function' &&
  typeof (d as Partial<PreciseDateLike>).getNanoseconds === 'function';

/** Formats a Date (or the client's PreciseDate, keeping its sub-millisecond digits). */
export function formatDate(date: Date): string {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  let nanos = (ms - seconds * 1000) * 1_000_000;
  if (isPrecise(date)) nanos += date.getMicroseconds() * 1000 + date.getNanoseconds();
  return formatTimestamp(seconds, nanos);
}
