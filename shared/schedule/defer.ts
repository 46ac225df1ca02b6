import type { Clock } from '../clock';
import type { RotationRequest } from '../events/rotation-request';
import type { Logger } from '../logging/logger';
import type { SecretSnapshot, SecretStore } from '../secrets/secret-store';
import type { ScheduleGate } from './gate';
import { syncNextRotationTime } from './sync';

/**
 * Carry out a deferral (an expected outcome, not a fault): one INFO line, then the next scheduled
 * time set when Secret Manager's is missing or wrong (0 or 1 UpdateSecret), and the notification
 * is acknowledged by returning.
 */
export async function deferScheduledRotation(
  gate: Exclude<ScheduleGate, { action: 'proceed' }>,
  snapshot: SecretSnapshot,
  request: RotationRequest,
  deps: { store: SecretStore; clock: Clock; logger: Logger },
): Promise<void> {
  const log = deps.logger.child({ secret: snapshot.name });
  const iso = (ms: number | undefined) =>
    ms === undefined ? undefined : new Date(ms).toISOString();
  if (gate.why === 'paused') {
    log.info('rotation is paused: scheduled notification acknowledged, nothing rotated', {
      event: 'rotation.deferred',
      why: 'paused',
      requestKey: request.requestKey,
      pausedBy: gate.pause.by,
      pausedAt: iso(gate.pause.at),
      pauseReason: gate.pause.reason,
    });
  } else {
    log.info('scheduled notification arrived after its rotation window: not rotated', {
      event: 'rotation.deferred',
      why: 'outside-window',
      requestKey: request.requestKey,
      notifiedAt: iso(request.requestedAt),
      scheduledAt: iso(gate.scheduledAt),
      windowClosedAt: iso(gate.closesAt),
    });
  }
  await syncNextRotationTime(deps.store, snapshot, deps.clock.now(), log);
}
