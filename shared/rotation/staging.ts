import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isPermanent, PermanentError } from '../errors';
import { type DatabasePayload, DatabasePayloadSchema } from '../secrets/payload';
import type { SecretStore } from '../secrets/secret-store';
import { formatIssues } from '../zod-issues';
import { isOwnPending } from './provenance';

/**
 * The staging place (docs/architecture.md, "Staging"): a deployment-wide secret, created by
 * terraform and named by ROTATOR_STAGING_SECRET, that only rotateSecret can add to and read. A
 * pending credential is stored there BEFORE the database learns it (invariant 1) and becomes a
 * version of the managed secret only after a real login verified it, so a managed secret's
 * `latest` is always a credential that works. Consumers never read the staging secret.
 *
 * A staged version wraps the payload with the managed secret and the rotation it belongs to: one
 * staging secret serves every managed secret of the deployment, and a redelivery must recognise
 * its own orphan (AddSecretVersion is not idempotent) among everyone else's.
 */
export const STAGED_SCHEMA = 'gsm-rotator.staged/v1';

export const StagedPayloadSchema = z.object({
  schema: z.literal(STAGED_SCHEMA),
  /**
   * The managed secret's full name. Not called `secret`: the store registers every top-level
   * field whose name looks secret with the log redactor, and a secret's name is no secret.
   */
  owner: z.string(),
  /** The rotation that generated the credential (rotator.ts rotationIdFor). */
  rotationId: z.string(),
  payload: DatabasePayloadSchema,
});

/** Where a staged credential lives: a staging secret's full name and the version number. */
export interface StagedRef {
  secret: string;
  version: number;
}

/**
 * The shard a managed secret stages in: a stable hash of its name over the configured staging
 * secrets, so every delivery of one rotation looks in the same place (as long as the list is
 * unchanged; a rotation records the shard it used). Several shards spread the staging adds over
 * Secret Manager's soft per-secret limit (2 AddSecretVersion+UpdateSecret per second).
 */
export function stagingSecretFor(managed: string, shards: readonly string[]): string {
  if (shards.length === 0) throw new Error('no staging secret configured');
  const h = createHash('sha256').update(managed).digest();
  return shards[h.readUInt32BE(0) % shards.length] as string;
}

/** Add `payload` to the staging secret, wrapped with who it belongs to; returns the version. */
export async function stage(
  store: SecretStore,
  stagingSecret: string,
  owner: { secret: string; rotationId: string },
  payload: DatabasePayload,
): Promise<number> {
  const wrapped = {
    schema: STAGED_SCHEMA,
    owner: owner.secret,
    rotationId: owner.rotationId,
    payload,
  };
  return store.addVersion(stagingSecret, JSON.stringify(wrapped));
}

/**
 * Parse a staged version. Returns the payload object as written (not zod's output, which would
 * reorder keys: the managed version built from it must keep the base payload's field order).
 */
export function parseStaged(
  data: string,
  what: string,
): { secret: string; rotationId: string; payload: DatabasePayload } {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw new PermanentError(`${what} is not JSON`);
  }
  const parsed = StagedPayloadSchema.safeParse(json);
  if (!parsed.success) {
    throw new PermanentError(`${what} is not a staged credential: ${formatIssues(parsed.error)}`);
  }
  const raw = json as { payload: DatabasePayload };
  return { secret: parsed.data.owner, rotationId: parsed.data.rotationId, payload: raw.payload };
}

/**
 * Read a staged version recorded on the managed secret's state, and check it belongs to `owner`
 * (a recorded number is trusted only for what it proves). Errors: PermanentError when it is not
 * ours or not a staged credential; VersionNotEnabledError when it was destroyed.
 */
export async function readStaged(
  store: SecretStore,
  ref: StagedRef,
  owner: { secret: string; rotationId: string },
): Promise<DatabasePayload> {
  const what = `staged version ${ref.version} of ${ref.secret}`;
  const staged = parseStaged(await store.accessVersion(ref.secret, ref.version), what);
  if (staged.secret !== owner.secret || staged.rotationId !== owner.rotationId) {
    throw new PermanentError(`${what} belongs to another rotation`);
  }
  return staged.payload;
}

/** How far a worker's clock may be ahead of Secret Manager's when filtering by create time. */
const CLOCK_SKEW_MS = 10 * 60_000;

/**
 * A redelivery's search for its own orphan: a staged version added by an earlier delivery of
 * this rotation that died before anything recorded it. Only ENABLED versions created since the
 * rotation started (less a clock-skew margin) are listed, newest first; a version is ours only if
 * it names this secret and rotation AND carries a password whose digest the claim recorded
 * (provenance.ts), for the expected login and server. The first match is returned.
 *
 * Cost: 1 ListSecretVersions + one AccessSecretVersion per candidate read, only on a resumed
 * rotation that has no staged version recorded. Listing is eventually consistent (gcp-facts): an
 * add moments old may be missed. Then a second credential is staged and set, which replaces the
 * missed one in the database (set changes the same login): nothing the database accepts is lost;
 * the missed version merely stays in the staging secret.
 */
export async function findStagedOrphan(
  store: SecretStore,
  stagingSecret: string,
  expected: {
    secret: string;
    rotationId: string;
    startedAt: number;
    digests: readonly string[];
    username: string;
    base: DatabasePayload;
  },
): Promise<{ ref: StagedRef; payload: DatabasePayload } | undefined> {
  if (expected.digests.length === 0) return undefined;
  const since = new Date(expected.startedAt - CLOCK_SKEW_MS).toISOString();
  const candidates = await store.listVersions(
    stagingSecret,
    `state:ENABLED AND create_time>=${since}`,
  );
  for (const v of candidates) {
    let staged: ReturnType<typeof parseStaged>;
    try {
      staged = parseStaged(
        await store.accessVersion(stagingSecret, v.number),
        `staged version ${v.number}`,
      );
    } catch (err) {
      // Destroyed meanwhile, or not ours to understand: not our orphan.
      if (isPermanent(err)) continue;
      throw err;
    }
    if (
      staged.secret === expected.secret &&
      staged.rotationId === expected.rotationId &&
      isOwnPending(staged.payload, expected)
    ) {
      return { ref: { secret: stagingSecret, version: v.number }, payload: staged.payload };
    }
  }
  return undefined;
}
