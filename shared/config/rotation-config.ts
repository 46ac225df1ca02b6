import { z } from 'zod';
import { ENGINE_NAMES } from '../engines/engine';
import { MAX_TEST_QUERY_LENGTH, testQueryProblem } from '../engines/test-query';
import { requireScheduleForItsOptions, SCHEDULE_FIELDS, scheduleFrom } from '../schedule/schedule';
import { formatIssues } from '../zod-issues';
import { CONFIG_KEYS } from './annotations';
import { DurationSchema } from './duration';

export const STRATEGIES = ['single-user', 'alternating-users', 'dual-password'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

const SECRET_NAME = /^projects\/[^/]+\/(locations\/[^/]+\/)?secrets\/[A-Za-z0-9_-]{1,255}$/;
export const SecretNameSchema = z
  .string()
  .regex(SECRET_NAME, 'a full secret name: projects/P/secrets/S');

const intString = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const jsonString = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
    return z.NEVER;
  }
});

/**
 * A managed secret's rotation config, read from its annotations. Every key is documented in the
 * README with gcloud and terraform examples. Defaults are conservative: a day of grace, a 32
 * character password, three attempts.
 */
export const RotationConfigSchema = z
  .object({
    [CONFIG_KEYS.engine]: z.enum(ENGINE_NAMES),
    [CONFIG_KEYS.strategy]: z.enum(STRATEGIES),
    /** Full name of the secret holding the admin credential, or `self` (single-user only). */
    [CONFIG_KEYS.adminSecret]: z.union([z.literal('self'), SecretNameSchema]),
    /** alternating-users: the two logins, `a,b` (default: the current login and `<login>_clone`). */
    [CONFIG_KEYS.loginPair]: z
      .string()
      .regex(/^[^,\s]{1,80},[^,\s]{1,80}$/, 'two login names separated by a comma')
      .transform((t) => t.split(',') as [string, string])
      .refine(([a, b]) => a !== b, 'the two logins must differ')
      .optional(),
    [CONFIG_KEYS.gracePeriod]: DurationSchema.prefault('24h'),
    [CONFIG_KEYS.maxGracePeriod]: DurationSchema.optional(),
    /** One read statement (shared/engines/test-query.ts); anything else is refused here. */
    [CONFIG_KEYS.testQuery]: z
      .string()
      .min(1)
      .max(MAX_TEST_QUERY_LENGTH)
      .superRefine((text, ctx) => {
        const problem = testQueryProblem(text);
        if (problem)
          ctx.addIssue({ code: 'custom', message: `not a single read statement: ${problem}` });
      })
      .optional(),
    [CONFIG_KEYS.passwordLength]: intString(16, 128).prefault('32'),
    [CONFIG_KEYS.passwordExclude]: z.string().max(64).default(''),
    [CONFIG_KEYS.maxAttempts]: intString(1, 20).prefault('3'),
    [CONFIG_KEYS.retentionVersions]: intString(2, 1000).prefault('10'),
    [CONFIG_KEYS.retentionDays]: intString(1, 3650).optional(),
    [CONFIG_KEYS.consumers]: jsonString.optional(),
    ...SCHEDULE_FIELDS,
  })
  .superRefine(requireScheduleForItsOptions)
  .transform((a) => ({
    engine: a[CONFIG_KEYS.engine],
    strategy: a[CONFIG_KEYS.strategy],
    adminSecret: a[CONFIG_KEYS.adminSecret],
    loginPair: a[CONFIG_KEYS.loginPair],
    gracePeriodMs: a[CONFIG_KEYS.gracePeriod],
    // Consumers that never confirm must not hold an old credential alive forever.
    maxGracePeriodMs: a[CONFIG_KEYS.maxGracePeriod] ?? a[CONFIG_KEYS.gracePeriod] * 3,
    testQuery: a[CONFIG_KEYS.testQuery],
    passwordPolicy: {
      length: a[CONFIG_KEYS.passwordLength],
      exclude: a[CONFIG_KEYS.passwordExclude],
    },
    maxAttempts: a[CONFIG_KEYS.maxAttempts],
    retentionVersions: a[CONFIG_KEYS.retentionVersions],
    retentionDays: a[CONFIG_KEYS.retentionDays],
    consumers: a[CONFIG_KEYS.consumers],
    /** Cron schedule and window (shared/schedule), or undefined: Secret Manager's period alone. */
    schedule: scheduleFrom(a),
  }))
  .superRefine((c, ctx) => {
    if (c.adminSecret === 'self' && c.strategy !== 'single-user') {
      ctx.addIssue({
        code: 'custom',
        path: [CONFIG_KEYS.adminSecret],
        message: `'self' (the user changes its own password) only works with single-user`,
      });
    }
    if (c.strategy === 'dual-password' && c.engine === 'postgres') {
      ctx.addIssue({
        code: 'custom',
        path: [CONFIG_KEYS.strategy],
        message: 'PostgreSQL has no dual passwords: use alternating-users',
      });
    }
    if (c.maxGracePeriodMs < c.gracePeriodMs) {
      ctx.addIssue({
        code: 'custom',
        path: [CONFIG_KEYS.maxGracePeriod],
        message: 'max-grace-period must not be shorter than grace-period',
      });
    }
  });

export type RotationConfig = z.output<typeof RotationConfigSchema>;
export type PasswordPolicy = RotationConfig['passwordPolicy'];

/** One readable line per problem, naming the annotation, never echoing values. */
export const formatConfigIssues = (error: z.ZodError): string => formatIssues(error);

/**
 * The floor under `rotator.grace-period`: Secret Manager's alias reads are eventually consistent
 * ("minutes, sometimes longer", reference/gcp-facts.md), so a consumer reading `current` may see
 * the old version for minutes after promote; a grace shorter than that revokes a credential still
 * being handed out. A deployment may lower it explicitly (`ROTATOR_MIN_GRACE_PERIOD`: the local
 * stack and the tests do); a configured grace below the floor acts as the floor.
 */
export const DEFAULT_MIN_GRACE_MS = 15 * 60_000;

/** `config` with its grace periods raised to `floorMs` where they are shorter. */
export function withGraceFloor(config: RotationConfig, floorMs: number): RotationConfig {
  const gracePeriodMs = Math.max(config.gracePeriodMs, floorMs);
  return {
    ...config,
    gracePeriodMs,
    maxGracePeriodMs: Math.max(config.maxGracePeriodMs, gracePeriodMs),
  };
}
