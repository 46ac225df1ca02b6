import { status } from '@grpc/grpc-js';
import {
  failedPrecondition,
  invalidArgument,
  SmError,
  secretNotFoundOrEmpty,
  versionNotFound,
} from './errors';
import type { EventType } from './events';
import type { StoredSecret, StoredVersion } from './model';
import { type SecretRef, VERSION_NUMBER, type VersionRef, versionNameOf } from './names';
import type { Change, SecretTable } from './secret-table';
import { addDuration, instantFromMs } from './time';
import { validatePayload } from './validation';

/**
 * Adding, reading and changing the state of secret versions. Reads by number are immediate; by
 * `latest` or alias they may lag behind writes (consistency.ts).
 */

export function addVersion(
  table: SecretTable,
  ref: SecretRef,
  data: Buffer,
  claimedCrc32c: string | undefined,
): Change<StoredVersion> {
  const secret = table.getSecret(ref);
  validatePayload(data, claimedCrc32c);
  const version: StoredVersion = {
    number: secret.versions.length + 1,
    createTime: instantFromMs(table.now),
    state: 'ENABLED',
    etag: table.options.etags.next(),
    clientSpecifiedPayloadChecksum: claimedCrc32c !== undefined,
    payload: Buffer.from(data),
  };
  secret.versions.push(version);
  table.recordPointers(secret);
  return {
    result: version,
    events: [table.versionEvent('SECRET_VERSION_ADD', secret, version)],
  };
}

/** Newest first. */
export function listVersions(table: SecretTable, ref: SecretRef): StoredVersion[] {
  return [...table.getSecret(ref).versions].reverse();
}

/** A version by number (immediate), or by `latest` or alias (possibly lagging). */
export function getVersion(
  table: SecretTable,
  ref: VersionRef,
): { secret: StoredSecret; version: StoredVersion } {
  const secret = table.secrets.get(ref.secret.name);
  if (!secret) throw secretNotFoundOrEmpty(ref.secret.name);
  const number = resolveNumber(table, secret, ref);
  const version = secret.versions[number - 1];
  if (!version) throw versionNotFound(ref.name);
  return { secret, version };
}

/** The payload of an ENABLED version; anything else is FAILED_PRECONDITION. */
export function accessVersion(
  table: SecretTable,
  ref: VersionRef,
): {
  secret: StoredSecret;
  version: StoredVersion;
  payload: Buffer;
} {
  const { secret, version } = getVersion(table, ref);
  if (version.state !== 'ENABLED' || !version.payload) {
    throw failedPrecondition(
      `Secret Version [${versionNameOf(secret.name, version.number)}] is in ${version.state} state.`,
    );
  }
  return { secret, version, payload: version.payload };
}

export function enableVersion(
  table: SecretTable,
  ref: VersionRef,
  etag: string | undefined,
): Change<StoredVersion> {
  return changeVersion(table, ref, etag, (_secret, version) => {
    version.state = 'ENABLED';
    delete version.scheduledDestroyTime;
    return 'SECRET_VERSION_ENABLE';
  });
}

export function disableVersion(
  table: SecretTable,
  ref: VersionRef,
  etag: string | undefined,
): Change<StoredVersion> {
  return changeVersion(table, ref, etag, (_secret, version) => {
    version.state = 'DISABLED';
    delete version.scheduledDestroyTime;
    return 'SECRET_VERSION_DISABLE';
  });
}

/** Immediate, or with the secret's version_destroy_ttl: DISABLED now, DESTROYED later. */
export function destroyVersion(
  table: SecretTable,
  ref: VersionRef,
  etag: string | undefined,
): Change<StoredVersion> {
  return changeVersion(table, ref, etag, (secret, version) => {
    if (version.scheduledDestroyTime) {
      throw failedPrecondition('SecretVersion is already scheduled for DESTRUCTION.');
    }
    if (secret.versionDestroyTtl) {
      version.state = 'DISABLED';
      version.scheduledDestroyTime = addDuration(
        instantFromMs(table.now),
        secret.versionDestroyTtl,
      );
      return 'SECRET_VERSION_DESTROY_SCHEDULED';
    }
    table.destroyNow(version);
    return 'SECRET_VERSION_DESTROY';
  });
}

function changeVersion(
  table: SecretTable,
  ref: VersionRef,
  etag: string | undefined,
  apply: (secret: StoredSecret, version: StoredVersion) => EventType,
): Change<StoredVersion> {
  const secret = table.getSecret(ref.secret);
  if (!VERSION_NUMBER.test(ref.version)) {
    throw invalidArgument(
      `The provided Secret Version ID [${ref.name}] does not match the expected format [projects/*/secrets/*/versions/*]`,
    );
  }
  const version = secret.versions[Number(ref.version) - 1];
  if (!version) throw versionNotFound(ref.name);
  table.checkEtag(version.etag, etag);
  if (version.state === 'DESTROYED') {
    throw failedPrecondition('SecretVersion.state is already DESTROYED');
  }
  const eventType = apply(secret, version);
  version.etag = table.options.etags.next();
  return { result: version, events: [table.versionEvent(eventType, secret, version)] };
}

function resolveNumber(table: SecretTable, secret: StoredSecret, ref: VersionRef): number {
  if (VERSION_NUMBER.test(ref.version)) {
    const n = Number(ref.version);
    if (n < 1 || n > secret.versions.length) throw versionNotFound(ref.name);
    return n;
  }
  const seen = table.pointersSeen(secret);
  if (ref.version === 'latest') {
    if (!seen || seen.latest === 0) throw secretNotFoundOrEmpty(secret.name);
    return seen.latest;
  }
  const target = seen?.aliases[ref.version];
  if (target === undefined) {
    throw new SmError(status.NOT_FOUND, `Secret [${secret.name}] has no alias [${ref.version}]`);
  }
  return target;
}
