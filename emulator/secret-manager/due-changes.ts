import type { SecretEvent } from './events';
import type { SecretTable } from './secret-table';
import { addDuration, instantToMs } from './time';

/**
 * Everything that comes due by the clock: expired secrets are deleted, scheduled destructions
 * happen, and due rotations send SECRET_ROTATE after next_rotation_time moved on by the period
 * (production's SECRET_ROTATE already carries the advanced time); a rotation without a period is
 * removed once it fired ("Without a period it happens once and is then gone from the secret",
 * measured in production by github.com/kmoneil/zig-gcp docs/secret-manager/notifications.md).
 * Each of these moves the resource's etag.
 */
export function processDue(table: SecretTable): SecretEvent[] {
  const now = table.now;
  const events: SecretEvent[] = [];
  for (const secret of [...table.secrets.values()]) {
    if (secret.expireTime && instantToMs(secret.expireTime) <= now) {
      events.push(table.remove(secret, 'EXPIRATION'));
      continue;
    }
    for (const version of secret.versions) {
      if (version.scheduledDestroyTime && instantToMs(version.scheduledDestroyTime) <= now) {
        table.destroyNow(version);
        version.etag = table.options.etags.next();
        events.push(table.versionEvent('SECRET_VERSION_DESTROY', secret, version));
      }
    }
    const next = secret.rotation?.nextRotationTime;
    if (secret.rotation && next && instantToMs(next) <= now) {
      const period = secret.rotation.rotationPeriod;
      if (period) {
        // After downtime, skip the missed periods: one event, the next time in the future.
        const periodMs = period.seconds * 1000 + period.nanos / 1e6;
        const steps = Math.floor((now - instantToMs(next)) / periodMs) + 1;
        secret.rotation.nextRotationTime = addDuration(next, period, steps);
      } else {
        delete secret.rotation;
      }
      secret.etag = table.options.etags.next();
      events.push(table.secretEvent('SECRET_ROTATE', secret));
    }
  }
  return events;
}
