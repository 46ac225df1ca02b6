import { ManualClock } from '../../../devtools/manual-clock';
import { createDatabricksClient } from '../../../shared/databricks/client';
import { DatabricksError } from '../../../shared/databricks/databricks-error';
import { PermanentError } from '../../../shared/errors';
import { createLogger, memorySink } from '../../../shared/logging/logger';
import { Redactor } from '../../../shared/logging/redactor';

const TOKEN = 'dapi-unit-token-0123456789';
const HOST = 'https://1234567890123456.7.gcp.databricks.com';

type Answer = Response | Error;

/** A fetch that plays back `answers` and records what it was asked. */
function scriptedFetch(answers: Answer[]) {
  const seen: { url: string; method: string; auth: string | null; body: string | undefined }[] = [];
  const fn = (async (input: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    seen.push({
      url: String(input),
      method: init?.method ?? 'GET',
      auth: headers.get('authorization'),
      body: typeof init?.body === 'string' ? init.body : undefined,
    });
    const next = answers.shift();
    if (!next) throw new Error('no more answers');
    if (next instanceof Error) throw next;
    return next;
  }) as typeof fetch;
  return { fn, seen };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

function setup(answers: Answer[]) {
  const clock = new ManualClock();
  const sink = memorySink();
  const redactor = new Redactor();
  redactor.add(TOKEN);
  const { fn, seen } = scriptedFetch(answers);
  const client = createDatabricksClient({
    host: HOST,
    tokens: { getToken: async () => TOKEN },
    clock,
    random: () => 0,
    redactor,
    logger: createLogger({ sink, redactor }),
    fetch: fn,
  });
  return { client, clock, sink, seen, redactor };
}

describe('createDatabricksClient', () => {
  it('sends the bearer token and the documented request shapes', async () => {
    const { client, seen } = setup([
      json(200, {}),
      json(200, { run_id: 7 }),
      json(200, { update_id: 'u1' }),
      json(200, { name: 'pg', options: { host: 'db' } }),
    ]);

    await client.putSecret('etl', 'db', 'value-that-is-secret');
    await expect(client.runNow(42, 'tok-1')).resolves.toEqual({ runId: 7 });
    await expect(client.startPipelineUpdate('p-1')).resolves.toEqual({ updateId: 'u1' });
    await client.updateConnectionOptions('pg conn', { host: 'db', password: 'x' });

    expect(seen.map((s) => `${s.method} ${new URL(s.url).pathname}`)).toEqual([
      'POST /api/2.0/secrets/put',
      'POST /api/2.2/jobs/run-now',
      'POST /api/2.0/pipelines/p-1/updates',
      'PATCH /api/2.1/unity-catalog/connections/pg%20conn',
    ]);
    expect(seen.every((s) => s.auth === `Bearer ${TOKEN}`)).toBe(true);
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({
      scope: 'etl',
      key: 'db',
      string_value: 'value-that-is-secret',
    });
    expect(JSON.parse(seen[1]?.body ?? '')).toEqual({
      job_id: 42,
      idempotency_token: 'tok-1',
      queue: { enabled: true },
    });
    expect(JSON.parse(seen[2]?.body ?? '')).toEqual({ full_refresh: false });
  });

  it('pages through active runs', async () => {
    const { client, seen } = setup([
      json(200, { runs: [{ run_id: 3 }, { run_id: 2 }], has_more: true, next_page_token: 'n1' }),
      json(200, { runs: [{ run_id: 1 }], has_more: false }),
    ]);

    const runs = await client.listActiveRuns(9);

    expect(runs.map((r) => r.run_id)).toEqual([3, 2, 1]);
    const second = new URL(seen[1]?.url ?? '');
    expect(Object.fromEntries(second.searchParams)).toEqual({
      job_id: '9',
      active_only: 'true',
      limit: '24',
      page_token: 'n1',
    });
  });

  it('retries a GET through 429 (HTTP-date Retry-After), 503 and a reset connection', async () => {
    const { client, clock, sink } = setup([
      json(
        429,
        { error_code: 'REQUEST_LIMIT_EXCEEDED' },
        { 'retry-after': 'Mon, 02 Nov 2026 10:00:03 GMT' },
      ),
      json(503, { error_code: 'TEMPORARILY_UNAVAILABLE' }),
      new TypeError('fetch failed'),
      json(200, { cluster_id: 'c1', state: 'RUNNING' }),
    ]);

    await expect(client.getCluster('c1')).resolves.toMatchObject({ state: 'RUNNING' });
    expect(clock.sleeps).toEqual([3_000, 1_000, 2_000]);
    expect(sink.entries().filter((e) => e.message === 'databricks request retried')).toHaveLength(
      3,
    );
  });

  it('does not repeat a pipeline update start after a 503', async () => {
    const { client, seen } = setup([json(503, {}), json(200, { update_id: 'u2' })]);

    await expect(client.startPipelineUpdate('p-1')).rejects.toMatchObject({ status: 503 });
    expect(seen).toHaveLength(1);
  });

  it('maps 400 "does not exist" to RESOURCE_DOES_NOT_EXIST, a permanent error', async () => {
    const { client } = setup([
      json(400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'Job 5 does not exist.' }),
    ]);

    const err = await client.getJob(5).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabricksError);
    expect(err).toMatchObject({
      status: 400,
      errorCode: 'RESOURCE_DOES_NOT_EXIST',
      permanent: true,
    });
  });

  it('keeps tokens and registered values out of error messages', async () => {
    const { client, redactor } = setup([
      json(403, {
        error_code: 'PERMISSION_DENIED',
        message: `token ${TOKEN} cannot write s3cr3t-value`,
      }),
    ]);
    redactor.add('s3cr3t-value');

    const err = (await client.putSecret('etl', 'db', 's3cr3t-value').catch((e) => e)) as Error;
    expect(err.message).toContain('403 PERMISSION_DENIED');
    expect(err.message).not.toContain(TOKEN);
    expect(err.message).not.toContain('s3cr3t-value');
  });

  it('refuses an answer of the wrong shape without quoting it', async () => {
    const { client } = setup([json(200, { cluster_id: 'c1' })]);

    await expect(client.getCluster('c1')).rejects.toMatchObject({
      errorCode: 'INVALID_RESPONSE',
      message: expect.stringContaining('(state)'),
    });
  });

  it('refuses an idempotency token longer than 64 characters before sending', async () => {
    const { client, seen } = setup([]);

    await expect(client.runNow(1, 'x'.repeat(65))).rejects.toThrow(PermanentError);
    expect(seen).toHaveLength(0);
  });
});
