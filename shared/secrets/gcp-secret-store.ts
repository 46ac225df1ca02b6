import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import type { Redactor } from '../logging/redactor';
import { classifySecretManagerError } from './errors';
import { toSnapshot, toVersionInfo } from './resource-mapping';
import type { SecretSnapshot, SecretStore, VersionInfo } from './secret-store';

type SmClient = SecretManagerServiceClient;

/** Payload fields whose values are secrets: registered with the redactor on every read and write. */
const SENSITIVE_FIELD = /pass|secret|token|key/i;

function registerPayload(redactor: Redactor | undefined, data: string): void {
  if (!redactor) return;
  redactor.add(data);
  try {
    const parsed = JSON.parse(data) as unknown;
    // Top-level fields, and one level down (a staged credential wraps its payload).
    const scan = (o: unknown, depth: number): void => {
      if (!o || typeof o !== 'object') return;
      for (const [k, v] of Object.entries(o)) {
        if (typeof v === 'string' && SENSITIVE_FIELD.test(k)) redactor.add(v);
        else if (depth > 0) scan(v, depth - 1);
      }
    };
    scan(parsed, 1);
  } catch {
    // Not JSON: the whole payload is registered above.
  }
}

export interface GcpSecretStoreOptions {
  /** A client for the secret's location (undefined: global). */
  clientFor: (secretName: string) => SmClient;
  redactor?: Redactor;
}

/** The SecretStore over the official client; a client per location, chosen by the caller. */
export function createGcpSecretStore({ clientFor, redactor }: GcpSecretStoreOptions): SecretStore {
  const call = async <T>(
    op: string,
    target: string,
    fn: () => Promise<T>,
    onPrecondition: 'conflict' | 'state' = 'conflict',
  ): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw classifySecretManagerError(err, op, target, onPrecondition);
    }
  };
  const versionName = (secret: string, v: number | string) => `${secret}/versions/${v}`;

  return {
    getSecret: (name) =>
      call('getSecret', name, async () =>
        toSnapshot((await clientFor(name).getSecret({ name }))[0]),
      ),

    listSecrets: (parent, filter) =>
      call('listSecrets', parent, async () => {
        const out: SecretSnapshot[] = [];
        // autoPaginate: false only silences gax's warning; async iteration pages either way.
        for await (const s of clientFor(parent).listSecretsAsync(
          { parent, filter, pageSize: 100 },
          { autoPaginate: false },
        )) {
          out.push(toSnapshot(s));
        }
        return out;
      }),

    updateSecret: (snapshot, change) =>
      call('updateSecret', snapshot.name, async () => {
        const paths: string[] = [];
        const secret: Record<string, unknown> = { name: snapshot.name, etag: snapshot.etag };
        if (change.labels) {
          paths.push('labels');
          secret.labels = change.labels;
        }
        if (change.topics) {
          paths.push('topics');
          secret.topics = change.topics.map((name) => ({ name }));
        }
        if (change.annotations) {
          paths.push('annotations');
          secret.annotations = change.annotations;
        }
        if (change.aliases) {
          // The mask replaces the whole map (AIP-134): always send every alias.
          paths.push('version_aliases');
          secret.versionAliases = Object.fromEntries(
            Object.entries(change.aliases).map(([k, v]) => [k, String(v)]),
          );
        }
        if (change.rotation) {
          paths.push('rotation');
          const ms = change.rotation.nextRotationTime;
          secret.rotation = {
            nextRotationTime: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 },
          };
        }
        const [updated] = await clientFor(snapshot.name).updateSecret({
          secret,
          updateMask: { paths },
        });
        return toSnapshot(updated);
      }),

    addVersion: (secret, data) =>
      call('addSecretVersion', secret, async () => {
        registerPayload(redactor, data);
        const [version] = await clientFor(secret).addSecretVersion({
          parent: secret,
          payload: { data: Buffer.from(data, 'utf8') },
        });
        return toVersionInfo(version).number;
      }),

    accessVersion: (secret, version) =>
      call(
        'accessSecretVersion',
        versionName(secret, version),
        async () => {
          const [res] = await clientFor(secret).accessSecretVersion({
            name: versionName(secret, version),
          });
          const raw = res.payload?.data;
          const data = typeof raw === 'string' ? raw : Buffer.from(raw ?? []).toString('utf8');
          registerPayload(redactor, data);
          return data;
        },
        'state',
      ),

    listVersions: (secret, filter) =>
      call('listSecretVersions', secret, async () => {
        const out: VersionInfo[] = [];
        for await (const v of clientFor(secret).listSecretVersionsAsync(
          { parent: secret, pageSize: 100, ...(filter ? { filter } : {}) },
          { autoPaginate: false },
        )) {
          out.push(toVersionInfo(v));
        }
        return out.sort((a, b) => b.number - a.number);
      }),

    disableVersion: (secret, version, etag) =>
      call('disableSecretVersion', versionName(secret, version), async () => {
        await clientFor(secret).disableSecretVersion({
          name: versionName(secret, version),
          ...(etag ? { etag } : {}),
        });
      }),

    enableVersion: (secret, version, etag) =>
      call('enableSecretVersion', versionName(secret, version), async () => {
        await clientFor(secret).enableSecretVersion({
          name: versionName(secret, version),
          ...(etag ? { etag } : {}),
        });
      }),

    destroyVersion: (secret, version, etag) =>
      call('destroySecretVersion', versionName(secret, version), async () => {
        await clientFor(secret).destroySecretVersion({
          name: versionName(secret, version),
          ...(etag ? { etag } : {}),
        });
      }),
  };
}
