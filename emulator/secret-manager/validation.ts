import { crc32c } from '@aws-crypto/crc32c';
import { failedPrecondition, INVALID_REQUEST, invalidArgument } from './errors';
import type { Replication, Rotation } from './model';
import { isSecretId, isTopicName } from './names';
import { type Duration, durationToMs, type Instant, instantToMs } from './time';

/**
 * Secret Manager's input rules, with production's refusal messages where they are known
 * (measured against production by github.com/kmoneil/zig-gcp, 2026-10; see
 * docs/secret-manager-emulator.md). Each check throws an SmError with the real status code.
 */
export interface Limits {
  /** Shortest rotation period, seconds. Production: 1 h. */
  minRotationPeriodS: number;
  /** How far ahead next_rotation_time must be. Production: 5 min. */
  minRotationLeadMs: number;
  /** How far ahead an expiration must be. Production: 1 min. */
  minExpiryLeadMs: number;
  /** Shortest version_destroy_ttl, seconds. Production: 24 h. */
  minDestroyTtlS: number;
}

export const PRODUCTION_LIMITS: Limits = {
  minRotationPeriodS: 3600,
  minRotationLeadMs: 5 * 60_000,
  minExpiryLeadMs: 60_000,
  minDestroyTtlS: 86_400,
};

/** For the local stack and tests: rotations every second, and any next_rotation_time at all. */
export const RELAXED_LIMITS: Limits = {
  minRotationPeriodS: 1,
  minRotationLeadMs: Number.NEGATIVE_INFINITY,
  minExpiryLeadMs: 0,
  minDestroyTtlS: 1,
};

const MAX_AHEAD_MS = 876_000 * 3600_000;
const MAX_ROTATION_PERIOD_S = 3_153_600_000;
const MAX_DESTROY_TTL_S = 86_400_000;
export const MAX_PAYLOAD_BYTES = 64 * 1024;
const MAX_LABELS = 64;
const MAX_ALIASES = 50;
const MAX_TOPICS = 10;
const MAX_ANNOTATION_BYTES = 16 * 1024;

const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]*$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]*$/u;
const LABEL_KEY_PATTERN = '[\\p{Ll}\\p{Lo}][\\p{Ll}\\p{Lo}\\p{N}_-]{0,62}';
const LABEL_VALUE_PATTERN = '[\\p{Ll}\\p{Lo}\\p{N}_-]{0,63}';
const ANNOTATION_KEY = /^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$/;
const ALIAS = /^[a-zA-Z][a-zA-Z0-9_-]{0,62}$/;

const chars = (s: string) => [...s].length;
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

export function validateSecretId(id: string | undefined): string {
  if (!id) throw invalidArgument('Secret ID must be provided.');
  if (!isSecretId(id)) {
    throw invalidArgument(
      `Secret ID [${id}] must be 1 to 255 characters and match the pattern [a-zA-Z_0-9-]+.`,
    );
  }
  return id;
}

export function validateLabels(labels: Record<string, string>): void {
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS) {
    throw invalidArgument(
      `Invalid field "labels"; at most ${MAX_LABELS} entries allowed but found ${entries.length}`,
    );
  }
  for (const [key, value] of entries) {
    const keyProblem =
      bytes(key) > 128
        ? 'exceeds maximum byte length 128'
        : chars(key) > 63
          ? 'exceeds maximum character length 63'
          : LABEL_KEY.test(key)
            ? undefined
            : `does not conform to regular expression "${LABEL_KEY_PATTERN}"`;
    if (keyProblem) throw invalidArgument(`Invalid field "labels"; key "${key}" ${keyProblem}`);
    const valueProblem =
      bytes(value) > 128
        ? 'exceeds maximum byte length 128'
        : chars(value) > 63
          ? 'exceeds maximum value length 63'
          : LABEL_VALUE.test(value)
            ? undefined
            : `does not conform to regular expression "${LABEL_VALUE_PATTERN}"`;
    if (valueProblem) {
      throw invalidArgument(`Invalid field "labels.${key}"; value "${value}" ${valueProblem}`);
    }
  }
}

export function validateAnnotations(annotations: Record<string, string>): void {
  let total = 0;
  for (const [key, value] of Object.entries(annotations)) {
    if (key.length > 63 || bytes(key) > 128 || !ANNOTATION_KEY.test(key)) {
      throw invalidArgument(
        `[${key}] must follow pattern [a-z0-9A-Z]+([_\\.\\-]*[a-z0-9A-Z]+)*), be less than 64 characters, and must have a UTF encoding of less than 128 bytes`,
      );
    }
    total += bytes(key) + bytes(value);
  }
  // Production takes exactly 16 KiB and refuses one byte more (measured), though the docs say
  // "less than 16KiB".
  if (total > MAX_ANNOTATION_BYTES) {
    throw invalidArgument('Annotation map must not exceed 16kib.');
  }
}

/** int64 alias targets arrive as decimal strings ("01" reads as 1, as in production). */
export function parseAliasTargets(aliases: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [alias, target] of Object.entries(aliases)) {
    if (!/^-?[0-9]+$/.test(target)) throw invalidArgument(INVALID_REQUEST);
    out[alias] = Number(target);
  }
  return out;
}

/**
 * Alias names and targets. Production refuses exactly `latest` and `NEW` (case-sensitive, measured)
 * and lets an alias point at a destroyed version, as long as the version exists.
 */
export function validateAliases(aliases: Record<string, number>, versionCount: number): void {
  const entries = Object.entries(aliases);
  if (entries.length > MAX_ALIASES) {
    throw invalidArgument('No more than 50 aliases can be assgined to any given secret');
  }
  for (const [alias, target] of entries) {
    if (!ALIAS.test(alias) || alias === 'latest' || alias === 'NEW') {
      throw invalidArgument(
        `[${alias}] must follow pattern [a-zA-Z][a-Aa-Z0-9_-]+, be less than 64 characters and cannot be "latest" or "NEW"`,
      );
    }
    if (!Number.isSafeInteger(target) || target < 1 || target > versionCount) {
      throw invalidArgument("Aliases cannot be assigned to versions that don't exist");
    }
  }
}

export function validateTopics(topics: string[]): void {
  if (topics.length > MAX_TOPICS) {
    throw invalidArgument('No more than 10 topics can be configured on a secret.');
  }
  if (new Set(topics).size !== topics.length) {
    throw invalidArgument('Topics must have distinct names.');
  }
  for (const topic of topics) {
    if (!isTopicName(topic)) {
      throw invalidArgument(`Failed to Publish to topic [${topic}], got an error from Pub/Sub.`);
    }
  }
}

export interface RotationCheck {
  rotation: Rotation | undefined;
  topics: string[];
  /** Which parts this request set: only those are held to the time limits. */
  nextSent: boolean;
  periodSent: boolean;
  nowMs: number;
  limits: Limits;
}

/** Judged on the whole resulting secret, as production judges it. */
export function validateRotation(check: RotationCheck): void {
  const { rotation, nowMs, limits } = check;
  const next = rotation?.nextRotationTime;
  const period = rotation?.rotationPeriod;
  if (!next && !period) return;
  if (check.topics.length === 0) {
    throw invalidArgument(
      'There must be at least one topic configured when a Rotation policy is set.',
    );
  }
  if (period && !next) {
    throw failedPrecondition('Next rotation time must be set while the rotation period is set.');
  }
  if (next && check.nextSent) {
    const ahead = instantToMs(next) - nowMs;
    if (ahead < limits.minRotationLeadMs) {
      throw invalidArgument(
        `Next rotation time must be at least [${formatLimit(limits.minRotationLeadMs)}] in the future.`,
      );
    }
    if (ahead > MAX_AHEAD_MS) {
      throw invalidArgument('Next rotation time cannot be more than [876000h] from now.');
    }
  }
  if (period && check.periodSent) {
    if (period.nanos !== 0) throw invalidArgument('Rotation period must be whole seconds.');
    if (period.seconds < limits.minRotationPeriodS) {
      throw invalidArgument(
        `Rotation period cannot be shorter than [${formatLimit(limits.minRotationPeriodS * 1000)}].`,
      );
    }
    if (period.seconds > MAX_ROTATION_PERIOD_S) {
      throw invalidArgument('Rotation period cannot be longer than [876000h].');
    }
  }
}

export function validateExpireTime(expireTime: Instant, nowMs: number, limits: Limits): void {
  const ahead = instantToMs(expireTime) - nowMs;
  if (ahead < limits.minExpiryLeadMs) {
    throw invalidArgument(
      `Expiration time must be at least [${formatLimit(limits.minExpiryLeadMs)}] in the future.`,
    );
  }
  if (ahead > MAX_AHEAD_MS) {
    throw invalidArgument('Expiration time cannot be more than [876000h] from now.');
  }
}

export function validateDestroyTtl(ttl: Duration, limits: Limits): void {
  const ms = durationToMs(ttl);
  if (ms < limits.minDestroyTtlS * 1000) {
    throw invalidArgument(
      `Version destroy TTL must be at least [${formatLimit(limits.minDestroyTtlS * 1000)}].`,
    );
  }
  if (ms > MAX_DESTROY_TTL_S * 1000) {
    throw invalidArgument('Version destroy TTL cannot be more than [24000h].');
  }
}

/** Global secrets need a replication policy; regional ones must not have one. */
export function validateReplication(replication: Replication | undefined, regional: boolean): void {
  if (regional) {
    if (replication) throw invalidArgument('Secret.replication should not be provided.');
    return;
  }
  if (!replication) throw invalidArgument('Secret.replication must be provided.');
  if ('userManaged' in replication) {
    const replicas = replication.userManaged.replicas;
    if (replicas.length === 0 || replicas.some((r) => !r.location)) {
      throw invalidArgument('Secret.replication.user_managed.replicas must name locations.');
    }
  }
}

/** Payload rules: size, and the CRC32C (Castagnoli) the client claims, when it claims one. */
export function validatePayload(data: Buffer, claimedCrc32c: string | undefined): void {
  if (data.length === 0) throw invalidArgument('SecretPayload.data must not be empty.');
  if (data.length > MAX_PAYLOAD_BYTES) {
    throw invalidArgument(`SecretPayload.data must be no larger than ${MAX_PAYLOAD_BYTES} bytes.`);
  }
  if (claimedCrc32c !== undefined && claimedCrc32c !== String(crc32c(data))) {
    throw invalidArgument('Provided SecretPayload.data crc32c does not match calculated crc32c.');
  }
}

/** `[5m]`, `[1h]`, `[24h]`, `[1s]`: the way production quotes its limits. */
function formatLimit(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '0s';
  if (ms % 3600_000 === 0) return `${ms / 3600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}
