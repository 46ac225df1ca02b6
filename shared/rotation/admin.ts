import type { RotationConfig } from '../config/rotation-config';
import type { Credential, DatabaseEngine, EngineName } from '../engines/engine';
import { PermanentError } from '../errors';
import {
  credentialOf,
  type DatabasePayload,
  DatabasePayloadSchema,
  sameServer,
} from '../secrets/payload';
import { readCurrentValue } from '../secrets/read-current';
import type { SecretSnapshot, SecretStore } from '../secrets/secret-store';
import { assertNotAdminLogin, assertServes } from '../trust/serves';
import { TrustError } from '../trust/trust-error';
import type { RotationContext } from './context';
import { STRATEGY_IMPLS } from './strategies';

/** What an admin credential is about to be used for: which managed secret, which logins. */
export interface AdminUse {
  /** The managed secret's full name as Secret Manager reports it (its snapshot's name). */
  secret: string;
  engine: EngineName;
  /** Every login the session may change (alternating-users: both logins of the pair). */
  logins: readonly string[];
}

/**
 * The logins a rotation of this secret changes, given its current login: that login, and with
 * alternating-users also the other login of the pair. Each must be served by the admin secret.
 */
export function rotationLogins(
  config: RotationConfig,
  currentLogin: string,
  engine: DatabaseEngine,
): string[] {
  const other = STRATEGY_IMPLS[config.strategy].pendingUsername(currentLogin, config, engine);
  return other === currentLogin ? [currentLogin] : [currentLogin, other];
}

/**
 * The admin credential, but only for a use its admin secret allows (DESIGN invariant 8):
 * 1. the admin secret's `rotator.serves` annotation, which only its owners can write, must list
 *    `use.secret` and every login of `use.logins` — checked on the metadata, before the value is
 *    read;
 * 2. the value (read via its `current` alias when it is itself managed, else its latest version)
 *    must describe the same server as the managed secret, so a tampered payload cannot point the
 *    admin's rights at another database;
 * 3. the admin's own login is never among the logins changed, nor listed as served.
 * Anything else: TrustError (permanent; one ERROR line naming secrets and logins, never a value).
 *
 * Secret Manager calls: one GetSecret and one AccessSecretVersion, as before the binding existed:
 * the snapshot read for the annotations is the one readCurrentValue resolves the alias from.
 */
export async function adminCredential(
  store: SecretStore,
  adminSecret: string,
  managed: DatabasePayload,
  use: AdminUse,
): Promise<Credential> {
  const snapshot = await store.getSecret(adminSecret);
  const served = assertServes(adminSecret, snapshot.annotations, use.secret, use.logins);
  const text = await readCurrentValue(withKnownSnapshot(store, adminSecret, snapshot), adminSecret);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError)
      throw new PermanentError(`admin secret ${adminSecret} is not JSON`);
    throw err;
  }
  const parsed = DatabasePayloadSchema.safeParse(json);
  if (!parsed.success) {
    throw new PermanentError(`admin secret ${adminSecret} is not a valid database payload`);
  }
  if (!sameServer(parsed.data, managed, use.engine)) {
    throw new TrustError(
      `admin secret ${adminSecret} names another server than the managed secret ${use.secret}`,
    );
  }
  assertNotAdminLogin(adminSecret, parsed.data.username, use.secret, use.logins, served);
  return credentialOf(parsed.data);
}

/** adminCredential for the rotation in `ctx`: its secret, its base login and the pair's other. */
export async function adminCredentialFor(ctx: RotationContext): Promise<Credential> {
  if (!ctx.adminCredential) {
    ctx.adminCredential = await adminCredential(ctx.deps.store, ctx.config.adminSecret, ctx.base, {
      secret: ctx.snapshot.name,
      engine: ctx.config.engine,
      logins: rotationLogins(ctx.config, ctx.base.username, ctx.engine),
    });
  }
  return ctx.adminCredential;
}

/** The store, answering GetSecret of that one secret from the snapshot already read. */
function withKnownSnapshot(
  store: SecretStore,
  adminSecretName: string,
  snapshot: SecretSnapshot,
): SecretStore {
  return {
    ...store,
    getSecret: (name) =>
      name === adminSecretName || name === snapshot.name
        ? Promise.resolve(snapshot)
        : store.getSecret(name),
  };
}
