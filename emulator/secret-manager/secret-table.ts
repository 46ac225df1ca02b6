import type { Clock } from '../../shared/clock';
import type { DelayedPointers, PointerSnapshot } from './consistency';
import { secretNotFound, staleEtag } from './errors';
import type { EtagSource } from './etag';
import type { DeleteType, EventType, SecretEvent } from './events';
import type { StoredSecret, StoredVersion } from './model';
import { type ParentRef, parentOf, type SecretRef, versionNameOf } from './names';
import { secretJson, versionJson } from './resources';
import { instantFromMs } from './time';
import type { Limits } from './validation';

export interface SecretTableOptions {
  clock: Clock;
  limits: Limits;
  etags: EtagSource;
  /** Present when alias and `latest` reads lag behind writes. */
  pointers?: DelayedPointers;
}

/** A change and the events to announce, captured at the moment of the change. */
export interface Change<T> {
  result: T;
  events: SecretEvent[];
}

/**
 * The emulator's secrets and versions in memory, with what every operation shares: lookup, etag
 * checks, the (possibly lagging) alias pointers and the events a change announces. The
 * operations themselves live beside it by concept (secret-writes.ts, version-ops.ts,
 * due-changes.ts, iam-policies.ts). Every operation is synchronous, so each is atomic with
 * respect to concurrent RPCs.
 */
export class SecretTable {
  readonly secrets = new Map<string, StoredSecret>();

  constructor(readonly options: SecretTableOptions) {}

  get now(): number {
    return this.options.clock.now();
  }

  listSecrets(parent: ParentRef): StoredSecret[] {
    return [...this.secrets.values()]
      .filter((s) => parentOf(s) === parent.name)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  getSecret(ref: SecretRef): StoredSecret {
    const secret = this.secrets.get(ref.name);
    if (!secret) throw secretNotFound(ref.name);
    return secret;
  }

  allSecrets(): StoredSecret[] {
    return [...this.secrets.values()];
  }

  load(secrets: StoredSecret[]): void {
    this.secrets.clear();
    for (const secret of secrets) {
      this.secrets.set(secret.name, secret);
      this.recordPointers(secret);
    }
  }

  checkEtag(current: string, sent: string | undefined): void {
    // An empty etag means "no condition", as in production.
    if (sent && sent !== current) throw staleEtag();
  }

  pointersSeen(secret: StoredSecret): PointerSnapshot | undefined {
    const pointers = this.options.pointers;
    if (!pointers) return snapshotOf(secret);
    return pointers.lookup(secret.name, this.now);
  }

  recordPointers(secret: StoredSecret): void {
    this.options.pointers?.record(secret.name, snapshotOf(secret), this.now);
  }

  remove(secret: StoredSecret, deleteType: DeleteType): SecretEvent {
    this.secrets.delete(secret.name);
    this.options.pointers?.forget(secret.name);
    return { ...this.secretEvent('SECRET_DELETE', secret), deleteType };
  }

  destroyNow(version: StoredVersion): void {
    version.state = 'DESTROYED';
    version.destroyTime = instantFromMs(this.now);
    delete version.scheduledDestroyTime;
    delete version.payload;
  }

  secretEvent(eventType: EventType, secret: StoredSecret): SecretEvent {
    return {
      eventType,
      secretName: secret.name,
      topics: [...secret.topics],
      data: secretJson(secret),
      at: this.now,
    };
  }

  versionEvent(eventType: EventType, secret: StoredSecret, version: StoredVersion): SecretEvent {
    return {
      eventType,
      secretName: secret.name,
      versionName: versionNameOf(secret.name, version.number),
      topics: [...secret.topics],
      data: versionJson(secret, version),
      at: this.now,
    };
  }
}

const snapshotOf = (secret: StoredSecret): PointerSnapshot => ({
  aliases: secret.versionAliases,
  latest: secret.versions.length,
});
