import { pubsubCloudEvent, secretNotification } from '../devtools/events';
import { makeRetireVersions } from '../functions/retire-versions';
import { makeRotateSecret } from '../functions/rotate-secret';
import { mapWithConcurrency } from '../shared/concurrency';
import { readHistory, readState } from '../shared/rotation/state';
import { parseSettings } from '../shared/runtime/settings';
import type { ConnectionMonitor } from './connection-monitor';
import { type BenchEnvironment, PROJECT } from './environment';
import { since } from './stats';

/** Secret Manager's per-project write (and read) quota: requests per minute (secret-manager/quotas). */
const QUOTA_PER_MINUTE = 600;

export interface FleetQuotaResult {
  secrets: number;
  /** Function instances (max_instance_count) and events each handles at once. */
  instances: number;
  concurrencyPerInstance: number;
  /** From the shared next_rotation_time to the last rotation completed, ms. */
  wallMs: number;
  completed: number;
  failedRotations: number;
  deadLettered: number;
  /** Deliveries in all, and those handed back (ThrottledError or any other redelivery). */
  deliveries: number;
  redeliveries: number;
  quotaRefusals: number;
  /** Measured on one unthrottled rotation of the same kind, by quota kind. */
  writesPerRotation: number;
  readsPerRotation: number;
  /** max(writes, reads) needed ÷ 600 per minute, ms: no deployment can finish sooner. */
  floorMs: number;
  ratio: number;
  /** Rotations whose recorded attempt count is above 1 (throttling must not add any). */
  extraAttempts: number;
  peakConnections: number;
  /** Secret Manager calls, by quota kind, of one rotation and of retire ticks over the fleet. */
  calls: {
    rotation: CallFigures;
    /** The first tick after the fleet rotated: lists each secret's versions, records its next check. */
    retireTickAfterChange: CallFigures;
    /** The next tick, nothing changed: the ListSecrets pages only. */
    idleRetireTick: CallFigures;
  };
}

export interface CallFigures {
  read: number;
  write: number;
  access: number;
}

const figures = (c: CallFigures): CallFigures => ({
  read: c.read,
  write: c.write,
  access: c.access,
});

/**
 * (e) The fleet under Secret Manager's quotas (issue 13): N alternating-users PostgreSQL secrets
 * share one next_rotation_time, so N SECRET_ROTATE notifications arrive at once. The emulator
 * enforces production's quotas on a real 60 s minute (600 reads and 600 writes per project per
 * minute, 2 AddSecretVersion+UpdateSecret per second per secret). Cloud Functions is modelled as
 * `instances` instances (max_instance_count) each running `concurrencyPerInstance` events at a
 * time, the deployed rotateSecret handler (with its in-delivery backoff, ROTATOR_THROTTLE_WAIT),
 * and Pub/Sub's push subscription as terraform configures it: a failed delivery is redelivered
 * after exponential backoff (10 s doubling to 600 s) and dead-lettered after 10 deliveries.
 */
export async function measureFleetUnderQuota(
  env: BenchEnvironment,
  monitor: ConnectionMonitor,
  options: {
    secrets: number;
    instances: number;
    concurrencyPerInstance: number;
    maxDeliveries?: number;
    backoff?: { minMs: number; maxMs: number };
  },
): Promise<FleetQuotaResult> {
  const maxDeliveries = options.maxDeliveries ?? 10;
  const backoff = options.backoff ?? { minMs: 10_000, maxMs: 600_000 };
  const secrets = await mapWithConcurrency(Array.from({ length: options.secrets + 1 }), 8, () =>
    env.createManagedSecret('postgres', 'alternating-users'),
  );
  const handler = makeRotateSecret(() => env.deps);
  const notify = (name: string) => pubsubCloudEvent(secretNotification('SECRET_ROTATE', name));

  // The cost of one rotation of this kind, unthrottled: what the floor is made of.
  const probe = secrets.pop();
  if (!probe) throw new Error('no secret');
  const { calls: one } = await env.sm.calls.during(() => handler(notify(probe.name)));

  env.sm.setQuotasEnabled(true);
  const refusedBefore = env.sm.quotaRefusals;
  monitor.reset();
  // Pub/Sub: one message per secret, delivered when due; redelivered with backoff on failure.
  const queue = secrets.map((s) => ({ name: s.name, deliveries: 0, dueAt: 0 }));
  let deadLettered = 0;
  let deliveries = 0;
  let lastDone = 0;
  const t0 = performance.now();
  const take = () => {
    const now = since(t0);
    const i = queue.findIndex((m) => m.dueAt <= now);
    return i < 0 ? undefined : queue.splice(i, 1)[0];
  };
  const worker = async () => {
    while (queue.length > 0 || inFlight > 0) {
      const m = take();
      if (!m) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      inFlight++;
      m.deliveries++;
      deliveries++;
      try {
        await handler(notify(m.name));
        lastDone = since(t0);
      } catch {
        if (m.deliveries >= maxDeliveries) {
          deadLettered++;
        } else {
          const wait = Math.min(backoff.maxMs, backoff.minMs * 2 ** (m.deliveries - 1));
          queue.push({ ...m, dueAt: since(t0) + wait });
        }
      } finally {
        inFlight--;
      }
    }
  };
  let inFlight = 0;
  await Promise.all(
    Array.from({ length: options.instances * options.concurrencyPerInstance }, worker),
  );
  const wallMs = lastDone;
  env.sm.setQuotasEnabled(false);
  const quotaRefusals = env.sm.quotaRefusals - refusedBefore;
  const peakConnections = monitor.peak;

  const outcomes = await mapWithConcurrency(secrets, 8, async (s) => {
    const snapshot = await env.store.getSecret(s.name);
    const state = readState(snapshot.annotations);
    const last = readHistory(snapshot.annotations)[0];
    return {
      completed: state.status === 'idle' && last?.outcome === 'succeeded',
      failed: state.status === 'failed' || last?.outcome === 'failed',
      attempts: state.rotation?.attempt ?? 0,
    };
  });
  // Two retire ticks over the whole project, quotas off: after the change, then idle.
  const retire = makeRetireVersions(() => ({
    ...env.deps,
    runtime: { ...parseSettings({ GCP_PROJECT: PROJECT }), locations: [] },
  }));
  const tick = () =>
    retire(pubsubCloudEvent({ data: {} }, `projects/${PROJECT}/topics/retire-tick`));
  const afterChange = await env.sm.calls.during(tick);
  // A secret the first tick acted on (the latency run's) is listed once more by the next one.
  await tick();
  const idle = await env.sm.calls.during(tick);
  const floorMs = (Math.max(one.write, one.read) * options.secrets * 60_000) / QUOTA_PER_MINUTE;
  return {
    secrets: options.secrets,
    instances: options.instances,
    concurrencyPerInstance: options.concurrencyPerInstance,
    wallMs: Math.round(wallMs),
    completed: outcomes.filter((o) => o.completed).length,
    failedRotations: outcomes.filter((o) => o.failed).length,
    deadLettered,
    deliveries,
    redeliveries: deliveries - secrets.length,
    quotaRefusals,
    writesPerRotation: one.write,
    readsPerRotation: one.read,
    floorMs: Math.round(floorMs),
    ratio: Math.round((wallMs / floorMs) * 100) / 100,
    extraAttempts: outcomes.filter((o) => o.attempts > 1).length,
    peakConnections,
    calls: {
      rotation: figures(one),
      retireTickAfterChange: figures(afterChange.calls),
      idleRetireTick: figures(idle.calls),
    },
  };
}
