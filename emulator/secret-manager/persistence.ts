import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { type StoredSecret, VERSION_STATES } from './model';

/**
 * The optional state file, so the local stack survives a restart. It holds secret payloads in
 * clear (base64): it is the emulator's own database, written with mode 0600, for local use only.
 * Every write goes to a temporary file first and is renamed over the old one, so a crash leaves
 * either the old state or the new one, never half of each.
 */
const FORMAT = 'gsm-rotator/secret-manager-emulator@1';

const time = z.object({ seconds: z.number(), nanos: z.number() });
const cmek = z.object({ kmsKeyName: z.string() });
const replication = z.union([
  z.object({ automatic: z.object({ customerManagedEncryption: cmek.optional() }) }),
  z.object({
    userManaged: z.object({
      replicas: z.array(
        z.object({ location: z.string(), customerManagedEncryption: cmek.optional() }),
      ),
    }),
  }),
]);

const version = z.object({
  number: z.number().int().positive(),
  createTime: time,
  state: z.enum(VERSION_STATES),
  etag: z.string(),
  clientSpecifiedPayloadChecksum: z.boolean(),
  destroyTime: time.optional(),
  scheduledDestroyTime: time.optional(),
  payload: z.string().optional(),
});

const secret = z.object({
  name: z.string(),
  project: z.string(),
  location: z.string().optional(),
  createTime: time,
  etag: z.string(),
  replication: replication.optional(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  topics: z.array(z.string()),
  expireTime: time.optional(),
  rotation: z
    .object({ nextRotationTime: time.optional(), rotationPeriod: time.optional() })
    .optional(),
  versionAliases: z.record(z.string(), z.number()),
  versionDestroyTtl: time.optional(),
  customerManagedEncryption: cmek.optional(),
  secretType: z.string().optional(),
  versions: z.array(version),
  iamPolicy: z
    .object({
      version: z.number().optional(),
      bindings: z.array(z.unknown()).optional(),
      auditConfigs: z.array(z.unknown()).optional(),
      etag: z.string(),
    })
    .optional(),
});

const stateFile = z.object({
  format: z.literal(FORMAT),
  etagLast: z.number(),
  secrets: z.array(secret),
});

export interface PersistedState {
  etagLast: number;
  secrets: StoredSecret[];
}

/** Reads the state file; a missing file is an empty state, a malformed one an error. */
export function loadState(file: string): PersistedState {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { etagLast: 0, secrets: [] };
    throw err;
  }
  const parsed = stateFile.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new Error(`${file} is not a Secret Manager emulator state file: ${parsed.error.message}`);
  }
  return {
    etagLast: parsed.data.etagLast,
    secrets: parsed.data.secrets.map((s) => ({
      ...s,
      versions: s.versions.map(({ payload, ...v }) => ({
        ...v,
        ...(payload === undefined ? {} : { payload: Buffer.from(payload, 'base64') }),
      })),
    })),
  };
}

export function saveState(file: string, state: PersistedState): void {
  const body = {
    format: FORMAT,
    etagLast: state.etagLast,
    secrets: state.secrets.map((s) => ({
      ...s,
      versions: s.versions.map(({ payload, ...v }) => ({
        ...v,
        ...(payload === undefined ? {} : { payload: payload.toString('base64') }),
      })),
    })),
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(body), { mode: 0o600 });
  fs.renameSync(temp, file);
}
