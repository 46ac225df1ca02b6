import { pubsubCloudEvent, secretNotification } from '../devtools/events';
import { mapWithConcurrency } from '../shared/concurrency';
import { ALIASES } from '../shared/config/annotations';
import type { ConnectionMonitor } from './connection-monitor';
import type { BenchEnvironment } from './environment';
import { since } from './stats';

export interface FleetResult {
  secrets: number;
  concurrency: number;
  wallMs: number;
  rotationsPerSecond: number;
  succeeded: number;
  peakConnections: number;
  /**
   * concurrency × connections one rotation holds at a time (1: its probe, admin session and test
   * login are sequential; (a) measures it): what the cap allows.
   */
  allowedConnections: number;
  withinCap: boolean;
  monitorSamples: number;
}

/**
 * (c) N secrets whose rotation came due at the same moment (one SECRET_ROTATE each), handled by
 * one function instance that runs at most `concurrency` of them at a time (mapWithConcurrency,
 * ROTATOR_DB_CONCURRENCY), as retireVersions does for its list. Peak connections come from
 * pg_stat_activity.
 */
export async function measureFleet(
  env: BenchEnvironment,
  monitor: ConnectionMonitor,
  options: { secrets: number; concurrency: number; perRotationPeak: number },
): Promise<FleetResult> {
  const secrets = await mapWithConcurrency(Array.from({ length: options.secrets }), 8, () =>
    env.createManagedSecret('postgres', 'alternating-users'),
  );
  const events = secrets.map((s) => pubsubCloudEvent(secretNotification('SECRET_ROTATE', s.name)));
  monitor.reset();
  const t0 = performance.now();
  await mapWithConcurrency(events, options.concurrency, (event) => env.rotateSecret(event));
  const wallMs = since(t0);
  const peakConnections = monitor.peak;
  const monitorSamples = monitor.samples;
  const promoted = await mapWithConcurrency(secrets, 8, async (s) => {
    const snapshot = await env.store.getSecret(s.name);
    return snapshot.aliases[ALIASES.current] === 2;
  });
  const allowed = options.concurrency * Math.max(1, options.perRotationPeak);
  return {
    secrets: options.secrets,
    concurrency: options.concurrency,
    wallMs,
    rotationsPerSecond: Math.round((options.secrets / (wallMs / 1000)) * 10) / 10,
    succeeded: promoted.filter(Boolean).length,
    peakConnections,
    allowedConnections: allowed,
    withinCap: peakConnections <= allowed,
    monitorSamples,
  };
}
