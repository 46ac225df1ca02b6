import { jwtClaims, mintJwt } from '../../../emulator/databricks/fake-google';
import { type RefreshDeps, refreshConsumers } from '../../../shared/consumers/refresh';
import { createWorkspaceClient } from '../../../shared/databricks/workspace-client';
import { PASSWORD, PAT, PAYLOAD, startHarness } from './harness';

type Harness = Awaited<ReturnType<typeof startHarness>>;

describe('refreshConsumers against the fake workspace', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness();
  });

  afterEach(() => h.workspace.close());

  describe('secret-scope', () => {
    it('writes the whole payload by default and only the password when asked', async () => {
      h.workspace.secrets.addScope('etl');

      const results = await refreshConsumers(
        h.input([
          { kind: 'secret-scope', scope: 'etl', key: 'orders-db' },
          { kind: 'secret-scope', scope: 'etl', key: 'orders-db-password', field: 'password' },
        ]),
        h.deps,
      );

      expect(results.map((r) => [r.id, r.status])).toEqual([
        ['secret-scope:etl/orders-db', 'done'],
        ['secret-scope:etl/orders-db-password', 'done'],
      ]);
      expect(h.workspace.secrets.value('etl', 'orders-db')).toBe(PAYLOAD);
      expect(h.workspace.secrets.value('etl', 'orders-db-password')).toBe(PASSWORD);
      expect(h.versionReads).toEqual(['orders-db/7']);
      expect(JSON.stringify(h.workspace.requests)).not.toContain(PASSWORD);
    });
  });

  describe('job', () => {
    it('continuous: cancels the active run, and Databricks starts a new one', async () => {
      h.workspace.jobs.add({ jobId: 11, continuous: true });
      h.clock.advance(1_000);
      const [before] = h.workspace.jobs.activeRunsOf(11);

      const [result] = await refreshConsumers(
        h.input([{ kind: 'job', jobId: 11, mode: 'continuous' }]),
        h.deps,
      );

      expect(result).toMatchObject({ id: 'job:11', status: 'done' });
      h.clock.advance(1_000);
      const runs = h.workspace.jobs.runsOf(11);
      expect(runs.find((r) => r.run_id === before?.run_id)).toMatchObject({
        life_cycle_state: 'TERMINATED',
        result_state: 'CANCELED',
      });
      expect(runs.filter((r) => r.life_cycle_state === 'RUNNING')).toEqual([
        expect.objectContaining({ trigger: 'CONTINUOUS' }),
      ]);
    });

    it('continuous but paused: skipped, nothing cancelled', async () => {
      h.workspace.jobs.add({ jobId: 12, continuous: true, paused: true });

      const [result] = await refreshConsumers(
        h.input([{ kind: 'job', jobId: 12, mode: 'continuous' }]),
        h.deps,
      );

      expect(result).toMatchObject({ status: 'skipped', reason: 'continuous job is paused' });
      expect(h.workspace.requests.some((r) => r.path.endsWith('/runs/cancel'))).toBe(false);
    });

    it('triggered with restart: one run per rotation, the old run cancelled', async () => {
      h.workspace.jobs.add({ jobId: 21 });
      const old = h.workspace.jobs.trigger(21);
      h.clock.advance(1_000);

      const [result] = await refreshConsumers(
        h.input([{ kind: 'job', jobId: 21, mode: 'triggered', onRotate: 'restart' }]),
        h.deps,
      );

      expect(result).toMatchObject({ status: 'done' });
      h.clock.advance(1_000);
      const runs = h.workspace.jobs.runsOf(21);
      expect(runs).toHaveLength(2);
      expect(runs.find((r) => r.run_id === old)).toMatchObject({ result_state: 'CANCELED' });
      expect(runs.find((r) => r.run_id !== old)).toMatchObject({
        life_cycle_state: 'RUNNING',
        idempotency_token: expect.stringMatching(/^gsm-rotator-[0-9a-f]{48}$/),
      });
    });

    it('a redelivered rotation starts no second run and leaves the first one running', async () => {
      h.workspace.jobs.add({ jobId: 22 });
      h.workspace.jobs.trigger(22);
      const target = [{ kind: 'job', jobId: 22, mode: 'triggered', onRotate: 'restart' }];

      await refreshConsumers(h.input(target), h.deps);
      h.clock.advance(1_000);
      const second = await refreshConsumers(h.input(target), h.deps);
      h.clock.advance(1_000);

      expect(second[0]).toMatchObject({
        status: 'done',
        reason: expect.stringContaining('cancelled 0'),
      });
      const runs = h.workspace.jobs.runsOf(22);
      expect(runs.filter((r) => r.idempotency_token)).toHaveLength(1);
      expect(runs.filter((r) => r.life_cycle_state === 'RUNNING')).toHaveLength(1);
      expect(h.workspace.requests.filter((r) => r.path === '/api/2.2/jobs/run-now')).toHaveLength(
        2,
      );

      // A different rotation is a different token: one more run.
      await refreshConsumers(h.input(target, { rotationId: 'rot-orders-db-0008' }), h.deps);
      expect(h.workspace.jobs.runsOf(22).filter((r) => r.idempotency_token)).toHaveLength(2);
    });

    it('cancels every other active run, across pages of runs/list', async () => {
      h.workspace.jobs.add({ jobId: 23, maxConcurrentRuns: 100 });
      for (let i = 0; i < 30; i++) h.workspace.jobs.trigger(23);
      h.clock.advance(1_000);

      const [result] = await refreshConsumers(
        h.input([{ kind: 'job', jobId: 23, mode: 'triggered', onRotate: 'restart' }]),
        h.deps,
      );

      expect(result?.reason).toContain('cancelled 30 other active run(s)');
      h.clock.advance(1_000);
      expect(h.workspace.jobs.activeRunsOf(23)).toHaveLength(1);
      const lists = h.workspace.requests.filter((r) => r.path === '/api/2.2/jobs/runs/list');
      expect(lists.map((r) => r.query.page_token !== undefined)).toEqual([false, true]);
    });

    it('triggered with the default policy: skipped without a call', async () => {
      const [result] = await refreshConsumers(
        h.input([{ kind: 'job', jobId: 24, mode: 'triggered' }]),
        h.deps,
      );

      expect(result).toMatchObject({ status: 'skipped' });
      expect(h.workspace.requests).toHaveLength(0);
    });

    it('refuses to cancel a triggered job configured as continuous', async () => {
      h.workspace.jobs.add({ jobId: 25 });
      h.workspace.jobs.trigger(25);

      const [result] = await refreshConsumers(
        h.input([{ kind: 'job', jobId: 25, mode: 'continuous' }]),
        h.deps,
      );

      expect(result).toMatchObject({ status: 'failed', retryable: false });
      expect(result?.reason).toContain('triggered in Databricks');
      expect(h.workspace.jobs.activeRunsOf(25)).toHaveLength(1);
    });
  });

  describe('pipeline', () => {
    it('stops, waits for IDLE, starts an update that is not a full refresh', async () => {
      h.workspace.pipelines.add({ pipelineId: 'pl-1', stopDelayMs: 300 });

      const [result] = await refreshConsumers(
        h.input([{ kind: 'pipeline', pipelineId: 'pl-1' }]),
        h.deps,
      );

      expect(result).toMatchObject({ status: 'done', reason: expect.stringContaining('update-2') });
      expect(result?.durationMs).toBeGreaterThanOrEqual(300);
      h.clock.advance(1_000);
      const pipeline = h.workspace.pipelines.inspect('pl-1');
      expect(pipeline.state).toBe('RUNNING');
      expect(pipeline.updates.map((u) => [u.state, u.full_refresh])).toEqual([
        ['RUNNING', false],
        ['CANCELED', false],
      ]);
    });

    it('skips an idle pipeline', async () => {
      h.workspace.pipelines.add({ pipelineId: 'pl-2', state: 'IDLE' });

      const [result] = await refreshConsumers(
        h.input([{ kind: 'pipeline', pipelineId: 'pl-2' }]),
        h.deps,
      );

      expect(result).toMatchObject({ status: 'skipped' });
      expect(h.workspace.pipelines.inspect('pl-2').updates).toHaveLength(0);
    });

    it('gives up after the bounded wait when the pipeline does not stop', async () => {
      h.workspace.pipelines.add({ pipelineId: 'pl-3', stopDelayMs: 60_000 });

      const [result] = await refreshConsumers(
        h.input([{ kind: 'pipeline', pipelineId: 'pl-3' }]),
        h.deps,
      );

      expect(result).toMatchObject({ status: 'failed', retryable: true });
      expect(result?.reason).toContain('did not reach IDLE within 5000 ms (still STOPPING)');
    });

    it('a redelivery finishes the restart that ran out of time waiting for IDLE', async () => {
      h.workspace.pipelines.add({ pipelineId: 'pl-6', stopDelayMs: 8_000 });
      const target = [{ kind: 'pipeline', pipelineId: 'pl-6' }];

      const [first] = await refreshConsumers(h.input(target), h.deps);
      h.clock.advance(10_000);
      const [idleElsewhere] = await refreshConsumers(
        h.input(target, { rotationId: 'another-rotation' }),
        h.deps,
      );
      const [second] = await refreshConsumers(
        h.input(target, { retriedTargetIds: ['pipeline:pl-6'] }),
        h.deps,
      );

      expect(first).toMatchObject({ status: 'failed', retryable: true });
      expect(idleElsewhere).toMatchObject({ status: 'skipped' });
      expect(second).toMatchObject({ status: 'done' });
      h.clock.advance(1_000);
      expect(h.workspace.pipelines.inspect('pl-6')).toMatchObject({ state: 'RUNNING' });
    });

    it('counts a 409 on start (someone started an update after the stop) as done', async () => {
      h.workspace.pipelines.add({ pipelineId: 'pl-4' });
      h.workspace.faults.add({ path: '/api/2.0/pipelines/pl-4/updates', status: 409 });

      const [result] = await refreshConsumers(
        h.input([{ kind: 'pipeline', pipelineId: 'pl-4' }]),
        h.deps,
      );

      expect(result).toMatchObject({ status: 'done', reason: expect.stringContaining('409') });
    });

    it('after a 503 on start, looks before starting again', async () => {
      h.workspace.pipelines.add({ pipelineId: 'pl-5' });
      h.workspace.faults.add({ path: '/api/2.0/pipelines/pl-5/updates', status: 503 });

      const [result] = await refreshConsumers(
        h.input([{ kind: 'pipeline', pipelineId: 'pl-5' }]),
        h.deps,
      );

      expect(result).toMatchObject({ status: 'done' });
      const starts = h.workspace.requests.filter(
        (r) => r.path === '/api/2.0/pipelines/pl-5/updates',
      );
      expect(starts.map((r) => r.status)).toEqual([503, 200]);
    });
  });

  describe('cluster', () => {
    it('restarts a RUNNING cluster and skips a TERMINATED one', async () => {
      h.workspace.clusters.add({ clusterId: 'c-run' });
      h.workspace.clusters.add({ clusterId: 'c-off', state: 'TERMINATED' });

      const results = await refreshConsumers(
        h.input([
          { kind: 'cluster', clusterId: 'c-run' },
          { kind: 'cluster', clusterId: 'c-off' },
        ]),
        h.deps,
      );

      expect(results.map((r) => r.status)).toEqual(['done', 'skipped']);
      expect(h.workspace.clusters.inspect('c-run')).toEqual({ state: 'RESTARTING', restarts: 1 });
      h.clock.advance(1_000);
      expect(h.workspace.clusters.inspect('c-run')).toEqual({ state: 'RUNNING', restarts: 1 });
      expect(h.workspace.clusters.inspect('c-off')).toEqual({ state: 'TERMINATED', restarts: 0 });
    });
  });

  describe('uc-connection', () => {
    it('updates the mapped options and keeps the others', async () => {
      h.workspace.connections.add({
        name: 'orders_pg',
        options: {
          host: 'orders.db.internal',
          port: '5432',
          user: 'orders_app_a',
          password: 'old',
        },
      });

      const [result] = await refreshConsumers(
        h.input([
          {
            kind: 'uc-connection',
            name: 'orders_pg',
            options: { user: 'username', password: 'password' },
          },
        ]),
        h.deps,
      );

      expect(result).toMatchObject({ status: 'done', reason: 'updated password, user' });
      expect(h.workspace.connections.options('orders_pg')).toEqual({
        host: 'orders.db.internal',
        port: '5432',
        user: 'orders_app_b',
        password: PASSWORD,
      });
    });
  });

  it('rides out a 429 storm (with and without Retry-After) and a 503 within the budget', async () => {
    h.workspace.secrets.addScope('etl');
    h.workspace.clusters.add({ clusterId: 'c-1' });
    h.workspace.faults.add({ path: '/api/2.0/secrets/put', status: 429, times: 3, retryAfter: 2 });
    h.workspace.faults.add({ path: '/api/2.1/clusters/get', status: 429, times: 2 });
    h.workspace.faults.add({
      path: '/api/2.1/clusters/restart',
      status: 429,
      retryAfter: new Date(h.clock.now() + 60_000).toUTCString(),
    });
    h.workspace.faults.add({ path: '/api/2.1/clusters/restart', status: 503 });
    const started = h.clock.now();

    const results = await refreshConsumers(
      h.input([
        { kind: 'secret-scope', scope: 'etl', key: 'orders-db' },
        { kind: 'cluster', clusterId: 'c-1' },
      ]),
      h.deps,
    );

    expect(results.map((r) => r.status)).toEqual(['done', 'done']);
    expect(h.clock.sleeps).toEqual([
      ...[2_000, 2_000, 2_000], // secrets/put: Retry-After: 2
      ...[1_000, 1_000], // clusters/get: no Retry-After, 1 s (the backoff is shorter yet)
      52_000, // clusters/restart: Retry-After as a date 60 s after the start, 8 s of which passed
      1_000, // clusters/restart: 503
    ]);
    expect(h.clock.now() - started).toBe(61_000);
    expect(h.workspace.clusters.inspect('c-1').restarts).toBe(1);
  });

  it('records a failed target when the budget runs out, and goes on', async () => {
    h.workspace.clusters.add({ clusterId: 'c-2' });
    h.workspace.secrets.addScope('etl');
    h.workspace.faults.add({ path: '/api/2.1/clusters/get', status: 503, times: Infinity });

    const results = await refreshConsumers(
      h.input([
        { kind: 'cluster', clusterId: 'c-2' },
        { kind: 'secret-scope', scope: 'etl', key: 'orders-db' },
      ]),
      h.deps,
    );

    expect(results[0]).toMatchObject({ status: 'failed', retryable: true });
    expect(results[0]?.reason).toMatch(/503 TEMPORARILY_UNAVAILABLE.*\(after \d+ attempts\)/);
    expect(results[1]).toMatchObject({ status: 'done' });
  });

  it('one failing target (403, 404, unknown id) does not stop the others', async () => {
    h.workspace.secrets.addScope('etl');
    h.workspace.clusters.add({ clusterId: 'c-3' });
    h.workspace.jobs.add({ jobId: 31, continuous: true });
    h.workspace.faults.add({ path: '/api/2.0/secrets/put', status: 403 });

    const results = await refreshConsumers(
      h.input([
        { kind: 'secret-scope', scope: 'etl', key: 'orders-db' },
        { kind: 'pipeline', pipelineId: 'no-such-pipeline' },
        { kind: 'cluster', clusterId: 'no-such-cluster' },
        { kind: 'cluster', clusterId: 'c-3' },
        { kind: 'job', id: 'orders-stream', jobId: 31, mode: 'continuous' },
      ]),
      h.deps,
    );

    expect(
      results.map(({ id, kind, status, retryable }) => ({ id, kind, status, retryable })),
    ).toEqual([
      {
        id: 'secret-scope:etl/orders-db',
        kind: 'secret-scope',
        status: 'failed',
        retryable: false,
      },
      { id: 'pipeline:no-such-pipeline', kind: 'pipeline', status: 'failed', retryable: false },
      { id: 'cluster:no-such-cluster', kind: 'cluster', status: 'failed', retryable: false },
      { id: 'cluster:c-3', kind: 'cluster', status: 'done', retryable: undefined },
      { id: 'orders-stream', kind: 'job', status: 'done', retryable: undefined },
    ]);
    expect(results[0]?.reason).toContain('403 PERMISSION_DENIED');
    expect(results[1]?.reason).toContain('404 RESOURCE_DOES_NOT_EXIST');
    expect(results[2]?.reason).toContain('400 RESOURCE_DOES_NOT_EXIST');
  });

  it('logs every outcome with the rotation id label, and never a token or a secret value', async () => {
    h.workspace.secrets.addScope('etl');
    h.workspace.connections.add({ name: 'orders_pg', options: { host: 'h' } });
    h.workspace.faults.add({ path: '/api/2.0/secrets/put', status: 429, times: 2 });

    await refreshConsumers(
      h.input(
        [
          { kind: 'secret-scope', scope: 'etl', key: 'orders-db' },
          { kind: 'uc-connection', name: 'orders_pg', options: { password: 'password' } },
          { kind: 'cluster', clusterId: 'missing' },
        ],
        { strategy: 'single-user' },
      ),
      h.deps,
    );

    const entries = h.sink.entries();
    const messages = entries.map((e) => e.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringContaining('single-user rotation'),
        'databricks request retried',
        'consumer done',
        'consumer refresh failed',
        'consumers refresh finished',
      ]),
    );
    const outcomes = entries.filter((e) => e.target);
    expect(
      outcomes.every(
        (e) =>
          (e['logging.googleapis.com/labels'] as Record<string, string>).rotation_id ===
          'rot-orders-db-0007',
      ),
    ).toBe(true);
    const all = h.sink.lines.join('\n');
    for (const value of [PAT, PASSWORD, PAYLOAD, JSON.stringify(PAYLOAD).slice(1, -1)]) {
      expect(all).not.toContain(value);
    }
  });

  it('fails every target, permanently, when the workspace refuses the token', async () => {
    h.secrets['dbx-pat'] = 'dapi-not-known-to-the-workspace';
    h.workspace.clusters.add({ clusterId: 'c-4' });

    const results = await refreshConsumers(
      h.input([{ kind: 'cluster', clusterId: 'c-4' }]),
      h.deps,
    );

    expect(results[0]).toMatchObject({ status: 'failed', retryable: false });
    expect(results[0]?.reason).toContain('401 UNAUTHENTICATED');
    expect(results[0]?.reason).not.toContain('dapi-not-known');
  });

  it('treats a slow answer as a timeout and retries the GET', async () => {
    const slow = await startHarness({ requestTimeoutMs: 100 });
    slow.workspace.clusters.add({ clusterId: 'c-5' });
    slow.workspace.faults.add({ path: '/api/2.1/clusters/get', delayMs: 300 });

    const [result] = await refreshConsumers(
      slow.input([{ kind: 'cluster', clusterId: 'c-5' }]),
      slow.deps,
    );
    await slow.workspace.close();

    expect(result).toMatchObject({ status: 'done' });
    expect(
      slow.sink.entries().find((e) => e.message === 'databricks request retried'),
    ).toMatchObject({
      status: 0,
      errorCode: 'TIMEOUT',
    });
  });
});

describe('refreshConsumers with keyless and M2M auth', () => {
  it('google-id: sends a Google ID token whose audience is the workspace URL', async () => {
    const h = await startHarness({ auth: { type: 'google-id' } });
    try {
      h.workspace.acceptTokensWhere((token) => jwtClaims(token)?.aud === h.workspace.url);
      h.workspace.clusters.add({ clusterId: 'c-g' });
      const minted: string[] = [];
      const deps: RefreshDeps = {
        ...h.deps,
        clientFor: (ws) =>
          createWorkspaceClient(ws, {
            clock: h.clock,
            random: () => 0.5,
            redactor: h.redactor,
            logger: h.deps.logger,
            readSecret: async () => {
              throw new Error('not used');
            },
            idTokenSource: {
              fetchIdToken: async (audience) => {
                const exp = Math.floor(h.clock.now() / 1000) + 3600;
                const token = mintJwt({ aud: audience, exp });
                minted.push(token);
                return token;
              },
            },
          }),
      };

      const [result] = await refreshConsumers(
        h.input([{ kind: 'cluster', clusterId: 'c-g' }]),
        deps,
      );

      expect(result).toMatchObject({ status: 'done' });
      expect(minted).toHaveLength(1);
      expect(h.workspace.requests.every((r) => r.auth === 'ok')).toBe(true);
      expect(h.sink.lines.join('\n')).not.toContain(minted[0]);
    } finally {
      await h.workspace.close();
    }
  });

  it('oauth-m2m: gets a token from /oidc/v1/token with the client secret from Secret Manager', async () => {
    const h = await startHarness({
      auth: { type: 'oauth-m2m', clientId: 'sp-app-id', clientSecretSecret: 'dbx-sp-secret' },
    });
    try {
      h.secrets['dbx-sp-secret'] = 'dose-sp-oauth-secret-123';
      h.workspace.addOAuthClient('sp-app-id', 'dose-sp-oauth-secret-123');
      h.workspace.clusters.add({ clusterId: 'c-m' });

      const results = await refreshConsumers(
        h.input([
          { kind: 'cluster', clusterId: 'c-m' },
          { kind: 'cluster', id: 'again', clusterId: 'c-m' },
        ]),
        h.deps,
      );

      expect(results.map((r) => r.status)).toEqual(['done', 'skipped']);
      expect(h.workspace.issuedOAuthTokens()).toBe(1);
      expect(h.sink.lines.join('\n')).not.toContain('dose-sp-oauth-secret-123');
    } finally {
      await h.workspace.close();
    }
  });
});
