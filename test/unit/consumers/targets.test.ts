import {
  ConsumerTargetsSchema,
  DatabricksConsumersSchema,
  targetId,
  WorkspaceConfigSchema,
} from '../../../shared/consumers/targets';

/** The example of docs/databricks.md, kept in step with it. */
const EXAMPLE = {
  workspace: {
    host: 'https://1234567890123456.7.gcp.databricks.com',
    auth: { type: 'google-id', impersonate: 'dbx-rotator@demo-project.iam.gserviceaccount.com' },
  },
  targets: [
    { kind: 'secret-scope', scope: 'etl', key: 'orders-db' },
    {
      kind: 'secret-scope',
      id: 'spark-conf-password',
      scope: 'etl',
      key: 'orders-db-password',
      field: 'password',
    },
    { kind: 'job', jobId: 1111, mode: 'continuous' },
    { kind: 'job', jobId: 2222, mode: 'triggered', onRotate: 'restart' },
    { kind: 'pipeline', pipelineId: '6b1d6f3e-1c2a-4c55-9f0e-2a8d1b2c3d4e' },
    { kind: 'cluster', clusterId: '0923-164208-meows279' },
    {
      kind: 'uc-connection',
      name: 'orders_pg',
      options: { user: 'username', password: 'password' },
    },
  ],
};

describe('DatabricksConsumersSchema', () => {
  it('accepts the documented example and fills the defaults', () => {
    const parsed = DatabricksConsumersSchema.parse(EXAMPLE);

    expect(parsed.targets[0]).toMatchObject({ kind: 'secret-scope', field: 'json' });
    expect(parsed.targets.map(targetId)).toEqual([
      'secret-scope:etl/orders-db',
      'spark-conf-password',
      'job:1111',
      'job:2222',
      'pipeline:6b1d6f3e-1c2a-4c55-9f0e-2a8d1b2c3d4e',
      'cluster:0923-164208-meows279',
      'uc-connection:orders_pg',
    ]);
  });

  it('wants at least one target', () => {
    expect(DatabricksConsumersSchema.safeParse({ ...EXAMPLE, targets: [] }).success).toBe(false);
  });
});

describe('ConsumerTargetsSchema', () => {
  it.each([
    ['an unknown kind', { kind: 'warehouse', id: 'w' }],
    ['a bad scope key', { kind: 'secret-scope', scope: 'etl', key: 'has space' }],
    ['an unknown field', { kind: 'secret-scope', scope: 'etl', key: 'k', field: 'username' }],
    ['a job without mode', { kind: 'job', jobId: 1 }],
    ['a fractional job id', { kind: 'job', jobId: 1.5, mode: 'triggered' }],
    ['an unknown policy', { kind: 'job', jobId: 1, mode: 'triggered', onRotate: 'repair' }],
    ['a connection without options', { kind: 'uc-connection', name: 'c', options: {} }],
    ['a cluster id with a slash', { kind: 'cluster', clusterId: 'a/b' }],
  ])('refuses %s', (_name, target) => {
    expect(ConsumerTargetsSchema.safeParse([target]).success).toBe(false);
  });

  it('refuses two targets with the same id', () => {
    const result = ConsumerTargetsSchema.safeParse([
      { kind: 'cluster', clusterId: 'c-1' },
      { kind: 'cluster', clusterId: 'c-1' },
    ]);

    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('duplicate cluster:c-1');
  });

  it('ignores unknown fields instead of failing', () => {
    const parsed = ConsumerTargetsSchema.parse([{ kind: 'cluster', clusterId: 'c-1', note: 'x' }]);

    expect(parsed[0]).toEqual({ kind: 'cluster', clusterId: 'c-1' });
  });
});

describe('WorkspaceConfigSchema', () => {
  it('reduces the host to its origin (the ID token audience)', () => {
    const parsed = WorkspaceConfigSchema.parse({
      host: 'https://1234567890123456.7.gcp.databricks.com/?o=1234567890123456',
      auth: { type: 'oauth-m2m', clientId: 'sp-app-id', clientSecretSecret: 'dbx-sp-secret' },
    });

    expect(parsed.host).toBe('https://1234567890123456.7.gcp.databricks.com');
  });

  it.each([
    ['plain http to a remote host', { host: 'http://example.com', auth: { type: 'google-id' } }],
    ['a PAT without its secret', { host: 'https://x.gcp.databricks.com', auth: { type: 'pat' } }],
    [
      'a bad impersonation target',
      { host: 'https://x.gcp.databricks.com', auth: { type: 'google-id', impersonate: 'nobody' } },
    ],
    [
      'a malformed secret name',
      { host: 'https://x.gcp.databricks.com', auth: { type: 'pat', tokenSecret: 'a b' } },
    ],
  ])('refuses %s', (_name, config) => {
    expect(WorkspaceConfigSchema.safeParse(config).success).toBe(false);
  });

  it('accepts plain http on loopback, for the local fake workspace', () => {
    const parsed = WorkspaceConfigSchema.parse({
      host: 'http://127.0.0.1:8089',
      auth: { type: 'pat', tokenSecret: 'projects/demo/secrets/dbx-pat/versions/3' },
    });

    expect(parsed.host).toBe('http://127.0.0.1:8089');
  });
});
