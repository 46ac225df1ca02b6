/**
 * Secret Manager calls allowed per operation, by quota kind (read = get/list, write = create/
 * update/delete/add/enable/disable/destroy, access = AccessSecretVersion), as counted by the
 * emulator on the wire. The figures are what the rotator costs today (measured 2026-11-29 by
 * call-budget.test.ts; rotation and retirement again 2026-11-30 with the staging secret); lower
 * them as the rotation core gets cheaper, never raise them without saying why. Issue 13's target for a successful rotation: at most 5 writes, 2 reads, 3 accesses;
 * an idle retire tick reads nothing per secret beyond the ListSecrets pages.
 */
/** How many managed secrets the idle tick lists. */
export const IDLE_SECRETS = 5;

export interface Budget {
  read: number;
  write: number;
  access: number;
}

export const CALL_BUDGET = {
  /**
   * One successful rotation of an adopted secret (`current` set), PostgreSQL single-user. Was
   * read 5, write 7, access 4, then read 4, write 7, access 2 (admin credential and base payload
   * read once per delivery); now read 2 (GetSecret of the secret and of the admin secret), write 5
   * (claim, staging add, managed add, promote, announce), access 2 (base, admin): only the claim,
   * promote and announce write the Secret, and a fresh claim lists no versions (issue 13).
   */
  rotationSingleUser: { read: 2, write: 5, access: 2 },
  /** One successful rotation, PostgreSQL alternating-users (parity check included). */
  rotationAlternatingUsers: { read: 2, write: 5, access: 2 },
  /** refreshConsumers for one successful rotation with one target (a secret-scope copy). */
  refreshOneTarget: { read: 3, write: 1, access: 2 },
  /**
   * A retire tick that retires one secret's previous version (its ListSecrets included), and
   * destroys the staged copy of the rotation that made it (+1 access to prove whose it is, +1
   * destroy; its list entry goes in the retirement's own last write). Was write 3, access 3.
   */
  retirement: { read: 3, write: 4, access: 4 },
  /**
   * A retire tick over IDLE_SECRETS managed secrets, nothing due, nothing changed since the tick
   * before: the ListSecrets page only (was 1 + one ListSecretVersions per secret). The tick after a
   * change lists that secret's versions and records its next check (shared/retirement/
   * next-check.ts): see idleRetireTickAfterChange.
   */
  idleRetireTick: { read: 1, write: 0, access: 0 },
  /** The first tick over IDLE_SECRETS secrets that changed: a listing and a marker write each. */
  idleRetireTickAfterChange: { read: 1 + IDLE_SECRETS, write: IDLE_SECRETS, access: 0 },
} satisfies Record<string, Budget>;
