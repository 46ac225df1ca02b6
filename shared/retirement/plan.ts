import { ALIASES } from '../config/annotations';
import type { RotationConfig } from '../config/rotation-config';
import { readRefreshRecord } from '../consumers/refresh-record';
import { readState } from '../rotation/state';
import type { SecretSnapshot, VersionInfo } from '../secrets/secret-store';

/**
 * What a retire tick should do to one managed secret, decided from its state alone (pure; the
 * CLI's `retire --dry-run` prints exactly this).
 */
export type RetireAction =
  /** Revoke `previous` in the database where the strategy allows, then disable its version. */
  | { kind: 'retire-previous'; version: number; unconfirmed: string[]; forced: boolean }
  /** An enabled version older than `current` that no alias points at: it no longer logs in. */
  | { kind: 'disable-stale'; version: number }
  /** A disabled version beyond the retention: destroyed (disabled versions still cost money). */
  | { kind: 'destroy'; version: number; why: 'count' | 'age' };

export interface RetirePlan {
  secret: string;
  actions: RetireAction[];
  /** Why `previous` is kept for now, for the dry run and the debug log. */
  waiting?: string;
  skipped?: string;
}

const DAY_MS = 86_400_000;

export function planRetirement(
  snapshot: SecretSnapshot,
  versions: VersionInfo[],
  config: RotationConfig,
  consumerIds: string[],
  now: number,
): RetirePlan {
  const state = readState(snapshot.annotations);
  const plan: RetirePlan = { secret: snapshot.name, actions: [] };
  if (state.status === 'rotating') return { ...plan, skipped: 'a rotation is in flight' };
  if (state.retiring && state.retiring.leaseUntil > now)
    return { ...plan, skipped: 'another tick is retiring' };

  const current = snapshot.aliases[ALIASES.current];
  const previous = snapshot.aliases[ALIASES.previous];
  const pending = snapshot.aliases[ALIASES.pending];
  const aliased = new Set([current, previous, pending].filter((v): v is number => v !== undefined));
  const byNumber = new Map(versions.map((v) => [v.number, v]));
  const latest = versions.reduce((max, v) => Math.max(max, v.number), 0);

  // 1. previous: after the grace window, and once every consumer confirmed (or the maximum grace).
  const prev = previous === undefined ? undefined : byNumber.get(previous);
  const hold = previousHold(snapshot, config, consumerIds, now, prev?.state === 'ENABLED');
  if (hold.kind === 'held') {
    plan.waiting = hold.why;
  } else if (hold.kind === 'due' && prev) {
    plan.actions.push({
      kind: 'retire-previous',
      version: prev.number,
      unconfirmed: hold.unconfirmed,
      forced: hold.unconfirmed.length > 0,
    });
  }

  // 2. Enabled versions below current that no alias points at: superseded credentials.
  if (current !== undefined) {
    for (const v of versions) {
      if (v.state === 'ENABLED' && v.number < current && !aliased.has(v.number)) {
        plan.actions.push({ kind: 'disable-stale', version: v.number });
      }
    }
  }

  // 3. Retention: destroy disabled versions beyond the newest N, or older than the age limit.
  //    Never an aliased version, never `latest` (it must keep pointing at something readable).
  const disabledSoon = new Set(
    plan.actions.flatMap((a) =>
      a.kind === 'disable-stale' || a.kind === 'retire-previous' ? [a.version] : [],
    ),
  );
  const alive = versions.filter((v) => v.state !== 'DESTROYED').sort((a, b) => b.number - a.number);
  alive.forEach((v, index) => {
    const disabled = v.state === 'DISABLED' && !disabledSoon.has(v.number);
    if (!disabled || aliased.has(v.number) || v.number === latest) return;
    if (index >= config.retentionVersions) {
      plan.actions.push({ kind: 'destroy', version: v.number, why: 'count' });
    } else if (
      config.retentionDays !== undefined &&
      now - v.createTime > config.retentionDays * DAY_MS
    ) {
      plan.actions.push({ kind: 'destroy', version: v.number, why: 'age' });
    }
  });
  return plan;
}

/**
 * Whether `previous` must keep working now (the grace window is a promise, invariant 4), decided
 * from the Secret alone. Shared by the retire tick (retire when `due`) and the rotator (a new
 * rotation waits while `held`, unless every consumer confirmed).
 * - `none`: nothing to protect (no enabled previous, or no promotion recorded);
 * - `due`: the grace window passed and every consumer confirmed, or the maximum grace passed;
 * - `held` until `until` (ms): within the grace window, or waiting for consumers' confirmations.
 *   `allConfirmed`: at least one consumer is configured and all confirmed the current version.
 */
export type PreviousHold =
  | { kind: 'none' }
  | { kind: 'due'; unconfirmed: string[] }
  | { kind: 'held'; until: number; why: string; allConfirmed: boolean };

export function previousHold(
  snapshot: SecretSnapshot,
  config: RotationConfig,
  consumerIds: string[],
  now: number,
  previousEnabled: boolean,
): PreviousHold {
  const state = readState(snapshot.annotations);
  if (!previousEnabled || state.promotedAt === undefined) return { kind: 'none' };
  const age = now - state.promotedAt;
  // Confirmations count only when they are for the credential `current` holds now: its
  // version, or the version it was first promoted as (a failed rotation re-adds it).
  const record = readRefreshRecord(snapshot.annotations);
  const current = snapshot.aliases[ALIASES.current];
  const known = state.currentCredential;
  const origin = known && known.current === current ? known.origin : current;
  const done = new Set(
    record && (record.version === current || record.version === origin)
      ? record.targets.filter((t) => t.status !== 'failed').map((t) => t.id)
      : [],
  );
  const unconfirmed = consumerIds.filter((id) => !done.has(id));
  const allConfirmed = consumerIds.length > 0 && unconfirmed.length === 0;
  if (age < config.gracePeriodMs) {
    const until = state.promotedAt + config.gracePeriodMs;
    return {
      kind: 'held',
      until,
      why: `grace period until ${new Date(until).toISOString()}`,
      allConfirmed,
    };
  }
  if (unconfirmed.length > 0 && age < config.maxGracePeriodMs) {
    const until = state.promotedAt + config.maxGracePeriodMs;
    return {
      kind: 'held',
      until,
      why: `waiting for consumers (${unconfirmed.join(', ')}) until ${new Date(until).toISOString()}`,
      allConfirmed: false,
    };
  }
  return { kind: 'due', unconfirmed };
}
