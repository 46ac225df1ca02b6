import { z } from 'zod';
import {
  type SecretSnapshot,
  VERSION_STATES,
  type VersionInfo,
  type VersionState,
} from './secret-store';

/**
 * Secret Manager's resources as gax returns them (int64 as strings, Timestamp and Duration as
 * {seconds, nanos}, enums as strings or numbers) mapped to the plain types of secret-store.ts.
 */

const toNumber = (v: unknown): number => Number(typeof v === 'object' && v ? String(v) : v);

function timestampMs(t: unknown): number | undefined {
  if (!t || typeof t !== 'object') return undefined;
  const { seconds, nanos } = t as { seconds?: unknown; nanos?: unknown };
  if (seconds === undefined || seconds === null) return undefined;
  return toNumber(seconds) * 1000 + Math.floor(toNumber(nanos ?? 0) / 1e6);
}

function durationMs(d: unknown): number | undefined {
  const ms = timestampMs(d);
  return ms === undefined || ms === 0 ? undefined : ms;
}

// The shape gax returns with longs as strings and enums as strings; loose, as the API grows.
const SecretResource = z
  .object({
    name: z.string(),
    etag: z.string().nullish(),
    labels: z.record(z.string(), z.string()).nullish(),
    annotations: z.record(z.string(), z.string()).nullish(),
    versionAliases: z.record(z.string(), z.unknown()).nullish(),
    topics: z.array(z.object({ name: z.string() }).loose()).nullish(),
    rotation: z
      .object({ nextRotationTime: z.unknown(), rotationPeriod: z.unknown() })
      .loose()
      .nullish(),
    createTime: z.unknown(),
  })
  .loose();

export function toSnapshot(raw: unknown): SecretSnapshot {
  const s = SecretResource.parse(raw);
  const aliases: Record<string, number> = {};
  for (const [k, v] of Object.entries(s.versionAliases ?? {})) aliases[k] = toNumber(v);
  const next = timestampMs(s.rotation?.nextRotationTime);
  const period = durationMs(s.rotation?.rotationPeriod);
  const created = timestampMs(s.createTime);
  return {
    name: s.name,
    etag: s.etag ?? '',
    labels: { ...(s.labels ?? {}) },
    annotations: { ...(s.annotations ?? {}) },
    aliases,
    topics: (s.topics ?? []).map((t) => t.name),
    ...(s.rotation
      ? {
          rotation: {
            ...(next === undefined ? {} : { nextRotationTime: next }),
            ...(period === undefined ? {} : { periodMs: period }),
          },
        }
      : {}),
    ...(created === undefined ? {} : { createTime: created }),
  };
}

const VersionResource = z
  .object({
    name: z.string(),
    state: z.union([z.enum(VERSION_STATES), z.string(), z.number()]),
    createTime: z.unknown(),
    etag: z.string().nullish(),
  })
  .loose();

const STATE_BY_NUMBER: Record<number, VersionState> = {
  1: 'ENABLED',
  2: 'DISABLED',
  3: 'DESTROYED',
};

export function toVersionInfo(raw: unknown): VersionInfo {
  const v = VersionResource.parse(raw);
  const state = typeof v.state === 'number' ? STATE_BY_NUMBER[v.state] : v.state;
  return {
    number: Number(v.name.slice(v.name.lastIndexOf('/') + 1)),
    state: (VERSION_STATES as readonly string[]).includes(state ?? '')
      ? (state as VersionState)
      : 'DISABLED',
    createTime: timestampMs(v.createTime) ?? 0,
    etag: v.etag ?? '',
  };
}
