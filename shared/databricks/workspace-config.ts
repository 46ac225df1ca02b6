import { z } from 'zod';

/** A Secret Manager secret: a short id in the function's project, or a full resource name. */
export const SecretRefSchema = z
  .string()
  .regex(
    /^([A-Za-z0-9_-]{1,255}|projects\/[^/]+\/secrets\/[A-Za-z0-9_-]{1,255}(\/versions\/[A-Za-z0-9_-]+)?)$/,
    'a secret id or projects/P/secrets/S[/versions/V]',
  );

/**
 * How the rotator signs in to a secret's Databricks workspace. Auth types in order of preference:
 * - `google-id`: a Google ID token of the function's service account, or of `impersonate` (a
 *   service account the function's account may mint tokens for). No stored key at all.
 * - `oauth-m2m`: a Databricks service principal's OAuth client id, with its client secret kept in
 *   Secret Manager under `clientSecretSecret` (a long-lived secret: up to two years).
 * - `pat`: a personal access token kept in Secret Manager under `tokenSecret`. Last resort: long-
 *   lived, tied to a user, and not rotated by anything here.
 */
export const WorkspaceAuthSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('google-id'), impersonate: z.email().optional() }),
  z.object({
    type: z.literal('oauth-m2m'),
    clientId: z.string().min(1).max(256),
    clientSecretSecret: SecretRefSchema,
  }),
  z.object({ type: z.literal('pat'), tokenSecret: SecretRefSchema }),
]);
export type WorkspaceAuth = z.infer<typeof WorkspaceAuthSchema>;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The workspace URL, reduced to its origin (it is also the Google ID token audience, which must
 * match exactly). HTTPS only; plain HTTP is accepted for loopback, where the local fake runs.
 */
export const WorkspaceHostSchema = z
  .url()
  .transform((value) => new URL(value))
  .refine(
    (url) => url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname)),
    'the workspace URL must use https',
  )
  .transform((url) => url.origin);

export const WorkspaceConfigSchema = z.object({
  host: WorkspaceHostSchema,
  auth: WorkspaceAuthSchema,
});
export type WorkspaceConfig = z.infer<typeof WorkspaceConfigSchema>;
