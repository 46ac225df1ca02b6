import { z } from 'zod';

export const PUBSUB_PREFERENCES = ['auto', 'official', 'in-process'] as const;
export type PubSubPreference = (typeof PUBSUB_PREFERENCES)[number];

/** Where the official emulator is, or why it cannot run here. */
export type OfficialEmulatorLocation =
  | { found: true; binary: string }
  | { found: false; reason: string };

export type BackendChoice =
  | { backend: 'official'; binary: string; reason: string }
  | { backend: 'in-process'; reason: string };

const envSchema = z.object({
  GSM_PUBSUB: z.enum(PUBSUB_PREFERENCES).optional(),
  REQUIRE_PUBSUB_EMULATOR: z
    .enum(['0', '1', 'true', 'false', ''])
    .optional()
    .transform((v) => v === '1' || v === 'true'),
});

/**
 * Which Pub/Sub to start. An explicit `prefer` from code wins; with 'auto', GSM_PUBSUB may force a
 * choice, else the official emulator runs when it is installed. REQUIRE_PUBSUB_EMULATOR=1 (CI on
 * machines that have google-cloud-cli) turns an automatic fallback into an error, so a broken
 * install cannot quietly downgrade the run.
 */
export function chooseBackend(
  prefer: PubSubPreference,
  env: Record<string, string | undefined>,
  official: OfficialEmulatorLocation,
): BackendChoice {
  const parsed = envSchema.safeParse({
    GSM_PUBSUB: env.GSM_PUBSUB || undefined,
    REQUIRE_PUBSUB_EMULATOR: env.REQUIRE_PUBSUB_EMULATOR,
  });
  if (!parsed.success) {
    throw new Error(
      `invalid GSM_PUBSUB or REQUIRE_PUBSUB_EMULATOR (GSM_PUBSUB: ${PUBSUB_PREFERENCES.join('|')}; REQUIRE_PUBSUB_EMULATOR: 1|0)`,
    );
  }
  const { GSM_PUBSUB, REQUIRE_PUBSUB_EMULATOR: required } = parsed.data;
  const fromEnv = prefer === 'auto' && GSM_PUBSUB !== undefined && GSM_PUBSUB !== 'auto';
  const wanted = fromEnv ? (GSM_PUBSUB as PubSubPreference) : prefer;
  const source = fromEnv ? 'GSM_PUBSUB' : `prefer '${prefer}'`;

  if (wanted === 'in-process') {
    if (fromEnv && required) {
      throw new Error('GSM_PUBSUB=in-process contradicts REQUIRE_PUBSUB_EMULATOR=1');
    }
    return { backend: 'in-process', reason: `${source} asked for the in-process stand-in` };
  }
  if (official.found) {
    const why = wanted === 'official' ? `${source} asked for it` : 'installed on this machine';
    return { backend: 'official', binary: official.binary, reason: `official emulator ${why}` };
  }
  if (wanted === 'official') {
    throw new Error(`${source} asked for the official Pub/Sub emulator: ${official.reason}`);
  }
  if (required) {
    throw new Error(`REQUIRE_PUBSUB_EMULATOR=1 but ${official.reason}`);
  }
  return { backend: 'in-process', reason: `${official.reason}; using the in-process stand-in` };
}
