import { randomUUID } from 'node:crypto';
import { pubsubCloudEvent } from '../devtools/events';
import { type FakeWorkspace, startFakeWorkspace } from '../emulator/databricks/fake-workspace';
import { makeRefreshConsumers } from '../functions/refresh-consumers';
import { CONFIG_KEYS } from '../shared/config/annotations';
import { databricksClients } from '../shared/runtime/databricks-clients';
import { type BenchEnvironment, PROJECT, ROTATION_EVENTS } from './environment';

/**
 * The fake Databricks workspace for the long-lived consumer: a PAT in Secret Manager, the
 * deployed refreshConsumers handler pinned to the workspace, and continuous jobs whose active run
 * refreshConsumers cancels (Databricks then starts a new run).
 */
export interface BenchWorkspace {
  ws: FakeWorkspace;
  /** The `rotator.consumers` annotation: one continuous job, restarted on rotation. */
  consumersFor(jobId: number): Record<string, string>;
  /** refreshConsumers for one published rotation outcome (data and attributes as published). */
  refresh(data: string, attributes: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

export async function startBenchWorkspace(env: BenchEnvironment): Promise<BenchWorkspace> {
  const ws = await startFakeWorkspace();
  const token = `dapi${randomUUID().replace(/-/g, '')}`;
  ws.acceptToken(token);
  const tokenSecret = `projects/${PROJECT}/secrets/dbx-token`;
  await env.client.createSecret({
    parent: `projects/${PROJECT}`,
    secretId: 'dbx-token',
    secret: { replication: { automatic: {} } },
  });
  await env.client.addSecretVersion({
    parent: tokenSecret,
    payload: { data: Buffer.from(token) },
  });
  const handler = makeRefreshConsumers(() => ({
    store: env.store,
    clock: env.deps.clock,
    logger: env.deps.logger,
    redactor: env.deps.redactor,
    runtime: {
      projectId: PROJECT,
      scope: { projects: [PROJECT] },
      databricks: { hosts: [ws.url], credentialSecrets: [tokenSecret] },
    },
    databricksClientFor: databricksClients(
      {
        clock: env.deps.clock,
        random: Math.random,
        redactor: env.deps.redactor,
        logger: env.deps.logger,
      },
      env.store,
      PROJECT,
    ),
  }));
  return {
    ws,
    consumersFor: (jobId) => ({
      [CONFIG_KEYS.consumers]: JSON.stringify({
        workspace: { host: ws.url, auth: { type: 'pat', tokenSecret: 'dbx-token' } },
        targets: [{ kind: 'job', jobId, mode: 'continuous', onRotate: 'restart' }],
      }),
    }),
    refresh: (data, attributes) =>
      handler(pubsubCloudEvent({ data: JSON.parse(data), attributes }, ROTATION_EVENTS)),
    close: () => ws.close(),
  };
}
