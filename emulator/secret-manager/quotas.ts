import { status } from '@grpc/grpc-js';
import type { Clock } from '../../shared/clock';
import { SmError } from './errors';
import type { RpcMethod } from './faults';
import { KIND_OF, type RequestKind, resourceOf } from './request-kinds';

/**
 * Secret Manager's request quotas, enforced when the emulator runs with `quotas` (off by default).
 *
 * Figures from secret-manager/quotas (checked 2026-11):
 * - per project per minute: access 90,000, read 600, write 600;
 * - soft, per global secret: AddSecretVersion + UpdateSecret 2 per second and 120 per minute
 *   (regional: 80/s, 4,800/min per secret); EnableSecretVersion, DisableSecretVersion and
 *   DestroySecretVersion 1 per second and 60 per minute per version (regional: 50/s, 3,000/min).
 *   Production may serve beyond a soft limit while its backend copes; the emulator holds to it,
 *   the conservative reading.
 *
 * Windows slide: a request is refused when the window before it already holds `limit` admitted
 * requests. The per-minute figures of the soft limits are 60 times the per-second ones, which a
 * sliding one-second window already implies, so only the second is checked. A refused request takes no quota. The minute can be scaled (`minuteMs`) so tests do
 * not wait a real one; per-second limits then use a sixtieth of it. Time comes from the
 * emulator's clock, so a test with a manual clock moves quota time too.
 */
export interface QuotaOptions {
  /** Length of a quota minute, ms; default 60,000. */
  minuteMs?: number;
  /** Per project per minute; defaults 600 / 600 / 90,000. */
  readPerMinute?: number;
  writePerMinute?: number;
  accessPerMinute?: number;
  /** Enforce the per-secret and per-version write rates; default true. */
  perResource?: boolean;
}

interface Limit {
  metric: string;
  limit: string;
  max: number;
  spanMs: number;
}

const SERVICE = 'secretmanager.googleapis.com';

/** Quota metric and limit names as Google's quota refusals spell them (see quotaExceeded). */
const PROJECT_METRIC: Record<RequestKind, string> = {
  read: 'Read requests',
  write: 'Write requests',
  access: 'Access requests',
};

const SECRET_WRITE_METHODS: readonly RpcMethod[] = ['addSecretVersion', 'updateSecret'];
const VERSION_WRITE_METHODS: readonly RpcMethod[] = [
  'enableSecretVersion',
  'disableSecretVersion',
  'destroySecretVersion',
];

/**
 * The refusal as Google's API front end words it for every service, e.g. (googleapis
 * python-docs-samples#3482, Cloud KMS) "Quota exceeded for quota metric 'Write requests' and
 * limit 'Write requests per minute' of service 'cloudkms.googleapis.com' for consumer
 * 'project_number:1012616486416'." — gRPC RESOURCE_EXHAUSTED (8), HTTP 429. Secret Manager's
 * metric names follow its quotas page (Access/Read/Write request). The consumer is the project
 * as named in the request (production names the project number). The per-secret and per-version
 * limit names are our own: no public capture of those refusals exists.
 */
export function quotaExceeded(metric: string, limit: string, project: string): SmError {
  return new SmError(
    status.RESOURCE_EXHAUSTED,
    `Quota exceeded for quota metric '${metric}' and limit '${limit}' of service '${SERVICE}' for consumer 'project_number:${project}'.`,
  );
}

/** Timestamps of admitted requests in one window, oldest first. */
class SlidingWindow {
  private readonly times: number[] = [];
  private head = 0;

  constructor(private readonly spanMs: number) {}

  count(now: number): number {
    while (this.head < this.times.length && (this.times[this.head] ?? 0) <= now - this.spanMs) {
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times.splice(0, this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }

  add(now: number): void {
    this.times.push(now);
  }
}

export class QuotaLimiter {
  private readonly windows = new Map<string, SlidingWindow>();
  private readonly minuteMs: number;
  private readonly perProject: Record<RequestKind, number>;
  private readonly perResource: boolean;
  private refusedCount = 0;

  constructor(
    private readonly clock: Clock,
    options: QuotaOptions = {},
  ) {
    this.minuteMs = options.minuteMs ?? 60_000;
    if (!(this.minuteMs > 0)) throw new Error('quota minuteMs must be positive');
    this.perProject = {
      read: options.readPerMinute ?? 600,
      write: options.writePerMinute ?? 600,
      access: options.accessPerMinute ?? 90_000,
    };
    this.perResource = options.perResource ?? true;
  }

  /**
   * Quota mode can be paused (the bench creates hundreds of secrets, then measures under quota):
   * while off, nothing is refused or counted; switching it on starts from empty windows.
   */
  setEnabled(on: boolean): void {
    if (on && !this.enabled) this.windows.clear();
    this.enabled = on;
  }

  private enabled = true;

  /** How many requests were refused for quota since the start. */
  get refused(): number {
    return this.refusedCount;
  }

  /**
   * Admits the request (taking quota from every limit it falls under) or throws the
   * RESOURCE_EXHAUSTED refusal of the first limit it exceeds, taking nothing.
   */
  admit(method: RpcMethod, request: unknown): void {
    if (!this.enabled) return;
    const now = this.clock.now();
    const resource = resourceOf(request);
    const project = /^projects\/([^/]+)/.exec(resource)?.[1] ?? '';
    const checks = this.limitsFor(method, resource).map((l) => ({
      l,
      window: this.windowFor(`${l.metric}|${l.spanMs}|${l.key}`, l.spanMs),
    }));
    for (const { l, window } of checks) {
      if (window.count(now) >= l.max) {
        this.refusedCount++;
        throw quotaExceeded(l.metric, l.limit, project);
      }
    }
    for (const { window } of checks) window.add(now);
  }

  private limitsFor(method: RpcMethod, resource: string): (Limit & { key: string })[] {
    const kind = KIND_OF[method];
    const project = /^projects\/[^/]+/.exec(resource)?.[0] ?? '';
    const metric = PROJECT_METRIC[kind];
    const out: (Limit & { key: string })[] = [
      {
        key: project,
        metric,
        limit: `${metric} per minute`,
        max: this.perProject[kind],
        spanMs: this.minuteMs,
      },
    ];
    if (!this.perResource) return out;
    const regional = /\/locations\//.test(resource);
    const second = this.minuteMs / 60;
    if (SECRET_WRITE_METHODS.includes(method)) {
      const secret = /^projects\/[^/]+(\/locations\/[^/]+)?\/secrets\/[^/]+/.exec(resource)?.[0];
      if (secret) {
        const m = 'AddSecretVersion and UpdateSecret requests per secret';
        const max = regional ? 80 : 2;
        out.push({ key: secret, metric: m, limit: `${m} per second`, max, spanMs: second });
      }
    }
    if (VERSION_WRITE_METHODS.includes(method)) {
      const m = 'Version state changes per secret version';
      const max = regional ? 50 : 1;
      out.push({ key: resource, metric: m, limit: `${m} per second`, max, spanMs: second });
    }
    return out;
  }

  private windowFor(key: string, spanMs: number): SlidingWindow {
    let w = this.windows.get(key);
    if (!w) {
      w = new SlidingWindow(spanMs);
      this.windows.set(key, w);
    }
    return w;
  }
}
