import type { RotationConfig, StrategyName } from '../config/rotation-config';
import type { AdminSession, Credential, DatabaseEngine } from '../engines/engine';
import { PermanentError } from '../errors';

/**
 * A strategy decides which login the new credential belongs to and how its password becomes valid,
 * how to undo that after a failed test, and what retiring the previous credential means. It speaks
 * only through the engine's verbs.
 */
export interface Strategy {
  readonly name: StrategyName;
  /** The username of the pending credential, given the current one. */
  pendingUsername(current: string, config: RotationConfig, engine: DatabaseEngine): string;
  /** Make `pending` log in. `current` keeps working except with single-user. */
  apply(session: AdminSession, current: Credential, pending: Credential): Promise<void>;
  /** Undo `apply` after a failed test, so that `current` works and `pending` does not. */
  rollback(session: AdminSession, current: Credential, pending: Credential): Promise<void>;
  /** Revoke the retired credential; `current` must keep working. */
  revoke(session: AdminSession, retired: Credential, current: Credential): Promise<void>;
  /** Whether `previous` still logs in after a rotation (and so has something to retire). */
  readonly keepsPrevious: boolean;
}

const singleUser: Strategy = {
  name: 'single-user',
  keepsPrevious: false,
  pendingUsername: (current) => current,
  apply: (s, _current, pending) => s.setPassword(pending.username, pending.password),
  rollback: (s, current) => s.setPassword(current.username, current.password),
  // The old password died at `set`: nothing is left to revoke.
  revoke: async () => {},
};

const CLONE_SUFFIX = '_clone';

/**
 * The other login of the pair: the configured pair (`rotator.login-pair: a,b`), or `<user>_clone`
 * (AWS's convention) and back. Derived from the current login alone, so it needs no stored state.
 */
export function alternateOf(current: string, config: RotationConfig, maxLength: number): string {
  let other: string;
  if (config.loginPair) {
    const [a, b] = config.loginPair;
    if (current !== a && current !== b) {
      throw new PermanentError(
        `current login ${current} is not one of rotator.login-pair (${a}, ${b})`,
      );
    }
    other = current === a ? b : a;
  } else {
    other = current.endsWith(CLONE_SUFFIX)
      ? current.slice(0, -CLONE_SUFFIX.length)
      : `${current}${CLONE_SUFFIX}`;
  }
  if (other.length > maxLength) {
    throw new PermanentError(
      `alternate login name is ${other.length} characters, over the engine's ${maxLength}: set rotator.login-pair`,
    );
  }
  return other;
}

const alternatingUsers: Strategy = {
  name: 'alternating-users',
  keepsPrevious: true,
  pendingUsername: (current, config, engine) =>
    alternateOf(current, config, engine.maxUsernameLength),
  async apply(s, current, pending) {
    if (await s.loginExists(pending.username)) {
      await s.setPassword(pending.username, pending.password);
      // Grants added to the current login since the last rotation (proved in the test step).
      await s.syncLoginLike(pending.username, current.username);
      await s.enableLogin(pending.username);
    } else {
      await s.createLoginLike(pending.username, current.username, pending.password);
    }
  },
  // The other login was retired (locked) or new before this rotation: lock it again.
  rollback: (s, _current, pending) => s.disableLogin(pending.username),
  async revoke(s, retired, current) {
    if (retired.username !== current.username) await s.disableLogin(retired.username);
  },
};

const dualPassword: Strategy = {
  name: 'dual-password',
  keepsPrevious: true,
  pendingUsername: (current) => current,
  apply: (s, current, pending) =>
    s.addPassword(pending.username, pending.password, current.password),
  rollback: (s, current) => s.discardOtherPasswords(current.username, current.password),
  revoke: (s, _retired, current) => s.discardOtherPasswords(current.username, current.password),
};

export const STRATEGY_IMPLS: Record<StrategyName, Strategy> = {
  'single-user': singleUser,
  'alternating-users': alternatingUsers,
  'dual-password': dualPassword,
};
