/**
 * The annotation keys gsm-rotator reads and writes on a managed Secret. Secret Manager annotation
 * keys allow letters, digits, `-`, `_` and `.`, so the namespace is a `rotator.` prefix.
 * Config keys are written by the operator (gcloud / terraform); state keys only by the rotator.
 */
export const CONFIG_KEYS = {
  engine: 'rotator.engine',
  strategy: 'rotator.strategy',
  adminSecret: 'rotator.admin-secret',
  loginPair: 'rotator.login-pair',
  gracePeriod: 'rotator.grace-period',
  maxGracePeriod: 'rotator.max-grace-period',
  testQuery: 'rotator.test-query',
  passwordLength: 'rotator.password-length',
  passwordExclude: 'rotator.password-exclude',
  maxAttempts: 'rotator.max-attempts',
  retentionVersions: 'rotator.retention-versions',
  retentionDays: 'rotator.retention-days',
  consumers: 'rotator.consumers',
  /** A 5-field cron expression; with it the rotator drives Secret Manager's next_rotation_time. */
  schedule: 'rotator.schedule',
  timeZone: 'rotator.time-zone',
  window: 'rotator.window',
} as const;

export const STATE_KEYS = {
  state: 'rotator.state',
  history: 'rotator.history',
  refresh: 'rotator.refresh',
  /** Written by `gsm-rotator pause` / `resume` (shared/schedule/pause.ts). */
  pause: 'rotator.pause',
  /** When the retire tick must next list this secret's versions (shared/retirement/next-check.ts). */
  retireCheck: 'rotator.retire-check',
} as const;

/** The label that marks a Secret as managed; retireVersions and the CLI list by it. */
export const MANAGED_LABEL = { key: 'rotator', value: 'managed' } as const;
export const MANAGED_FILTER = `labels.${MANAGED_LABEL.key}=${MANAGED_LABEL.value}`;

/** Version aliases the rotator owns. Consumers read `current`, never `latest`. */
export const ALIASES = { current: 'current', previous: 'previous', pending: 'pending' } as const;
