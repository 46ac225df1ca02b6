import { ALIASES } from '../shared/config/annotations';
import type { BenchEnvironment } from './environment';
import { type Summary, since, summarize } from './stats';

export interface LatencyResult {
  rotations: number;
  warmup: number;
  /** Event in (the deployed handler called with an Eventarc-shaped CloudEvent) → promoted and announced. */
  rotation: Summary;
  /** The five calls a rotation cannot avoid, made directly, one after the other. */
  floor: Summary;
  floorParts: Record<string, Summary>;
  ratioMedian: number;
  ratioP95: number;
  /** Highest number of database connections seen during one rotation. */
  peakConnectionsPerRotation: number;
}

/**
 * (a) One alternating-users PostgreSQL secret, rotated `rotations` times through the deployed
 * rotateSecret handler, interleaved with the floor: admin login, ALTER ROLE, a login with the new
 * password, AddSecretVersion and the alias UpdateSecret, called directly on the same server and
 * emulator. Interleaving puts both under the same conditions (caches, machine load).
 */
export async function measureLatency(
  env: BenchEnvironment,
  options: { rotations: number; warmup: number; peakDuring: () => { reset(): void; peak: number } },
): Promise<LatencyResult> {
  const secret = await env.createManagedSecret('postgres', 'alternating-users');
  const engine = env.deps.engineFor('postgres');
  const server = env.postgres;
  const endpoint = { host: server.host, port: server.port, database: 'postgres' };
  const admin = { username: server.adminUser, password: server.adminPassword };
  // The floor works on its own login, so it never disturbs the rotated secret.
  const floorLogin = `${secret.fixture.username}_floor`;
  await engine.withSession(endpoint, admin, (s) =>
    s.createLoginLike(floorLogin, secret.fixture.username, `Floor-${Date.now()}-x9Q`),
  );
  const floorSecret = await env.createManagedSecret('postgres', 'single-user');

  const rotation: number[] = [];
  const floor: number[] = [];
  const parts: Record<string, number[]> = {
    adminLogin: [],
    alterRole: [],
    newLogin: [],
    addVersion: [],
    aliasUpdate: [],
  };
  let peak = 0;
  const monitor = options.peakDuring();
  for (let i = 0; i < options.warmup + options.rotations; i++) {
    const measured = i >= options.warmup;
    const before = (await env.store.getSecret(secret.name)).aliases[ALIASES.current] ?? 1;
    monitor.reset();
    const t0 = performance.now();
    await env.rotateSecret(env.rotationEvent(secret.name));
    const ms = since(t0);
    peak = Math.max(peak, monitor.peak);
    const after = (await env.store.getSecret(secret.name)).aliases[ALIASES.current];
    if (after === undefined || after <= before) {
      throw new Error(`rotation ${i + 1} did not promote a new version (current ${after})`);
    }
    if (measured) rotation.push(ms);
    // Untimed: the grace window of `previous` is over for the next rotation (invariant 4).
    await env.retireNow(secret.name);

    const password = `Floor-${i}-${Math.random().toString(36).slice(2)}Zz9`;
    // A rotation holds the Secret from its first read; the floor's CAS token is read untimed.
    const snapshot = await env.store.getSecret(floorSecret.name);
    const f0 = performance.now();
    let t = f0;
    const lap = (name: string) => {
      const now = performance.now();
      if (measured) parts[name]?.push(Math.round((now - t) * 10) / 10);
      t = now;
    };
    await engine.withSession(endpoint, admin, async (s) => {
      lap('adminLogin');
      await s.setPassword(floorLogin, password);
      lap('alterRole');
    });
    const login = await engine.tryLogin(endpoint, { username: floorLogin, password });
    if (!login.ok) throw new Error('floor: the new password was rejected');
    lap('newLogin');
    const version = await env.store.addVersion(
      floorSecret.name,
      JSON.stringify({ ...endpoint, username: floorLogin, password }),
    );
    lap('addVersion');
    await env.store.updateSecret(snapshot, { aliases: { ...snapshot.aliases, current: version } });
    lap('aliasUpdate');
    if (measured) floor.push(since(f0));
  }
  const r = summarize(rotation);
  const f = summarize(floor);
  return {
    rotations: options.rotations,
    warmup: options.warmup,
    rotation: r,
    floor: f,
    floorParts: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, summarize(v)])),
    ratioMedian: Math.round((r.median / f.median) * 100) / 100,
    ratioP95: Math.round((r.p95 / f.p95) * 100) / 100,
    peakConnectionsPerRotation: peak,
  };
}
