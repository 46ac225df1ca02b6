import { createHash } from 'node:crypto';
import { STATE_KEYS } from '../config/annotations';
import type { RotationConfig } from '../config/rotation-config';
import type { SecretSnapshot, VersionInfo } from '../secrets/secret-store';
import { previousHold } from './plan';

/**
 * Lets an idle retire tick skip a secret without listing its versions (issue 13: an idle tick
 * reads nothing per secret beyond the ListSecrets pages).
 *
 * After a tick listed a secret's versions and found nothing to do, it writes annotation
 * `rotator.retire-check` = `<epoch ms>:<basis>`: the earliest time anything can become due
 * (the grace or maximum grace of `previous`, a disabled version reaching the retention age), and
 * a digest of everything else on the Secret that a plan depends on (every other annotation: the
 * rotation state, promotion time, refresh confirmations, config; and the aliases). Until that time,
 * and while the digest still matches, nothing can be due. Any rotation, retirement, refresh record,
 * alias move or config change alters the digest, so the next tick lists again. A version added or
 * disabled by hand outside the rotator changes neither: it is seen at the latest RECHECK_MS later.
 */
export const RECHECK_MS = 24 * 3_600_000;

const DAY_MS = 86_400_000;

/** A digest of the Secret's plan inputs other than its versions (see above); 16 hex digits. */
export function retireBasis(snapshot: SecretSnapshot): string {
  const annotations = Object.entries(snapshot.annotations)
    .filter(([k]) => k !== STATE_KEYS.retireCheck)
    .sort(([a], [b]) => a.localeCompare(b));
  const aliases = Object.entries(snapshot.aliases).sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256')
    .update(JSON.stringify([annotations, aliases]))
    .digest('hex')
    .slice(0, 16);
}

/** Whether the tick must list this secret's versions now: no valid marker, a changed basis, or its time came. */
export function retireCheckDue(snapshot: SecretSnapshot, now: number): boolean {
  const marker = /^(\d{1,15}):([0-9a-f]{16})$/.exec(
    snapshot.annotations[STATE_KEYS.retireCheck] ?? '',
  );
  if (!marker) return true;
  return Number(marker[1]) <= now || marker[2] !== retireBasis(snapshot);
}

/**
 * The earliest time anything can become due for a secret whose plan, at `now`, had nothing to
 * do: `previous` reaching its (maximum) grace, a disabled version reaching `retentionDays`, and
 * at most RECHECK_MS ahead. Retention by count only changes when versions are added.
 */
export function nextRetireCheck(
  snapshot: SecretSnapshot,
  versions: VersionInfo[],
  config: RotationConfig,
  consumerIds: string[],
  now: number,
): number {
  let at = now + RECHECK_MS;
  const previous = snapshot.aliases.previous;
  const prev = versions.find((v) => v.number === previous);
  const hold = previousHold(snapshot, config, consumerIds, now, prev?.state === 'ENABLED');
  if (hold.kind === 'held') at = Math.min(at, hold.until);
  if (config.retentionDays !== undefined) {
    for (const v of versions) {
      if (v.state !== 'DISABLED') continue;
      const ageDue = v.createTime + config.retentionDays * DAY_MS + 1;
      if (ageDue > now) at = Math.min(at, ageDue);
    }
  }
  return at;
}

/** The annotations with the marker for `at`, computed on `snapshot` as it is. */
export function withRetireCheck(snapshot: SecretSnapshot, at: number): Record<string, string> {
  return {
    ...snapshot.annotations,
    [STATE_KEYS.retireCheck]: `${Math.floor(at)}:${retireBasis(snapshot)}`,
  };
}
