import { parseDuration } from '../../../shared/config/duration';
import { formatConfigIssues, RotationConfigSchema } from '../../../shared/config/rotation-config';
import { readConfig } from '../../../shared/rotation/rotator';

const base = {
  'rotator.engine': 'postgres',
  'rotator.strategy': 'alternating-users',
  'rotator.admin-secret': 'projects/p/secrets/db-admin',
};

describe('RotationConfigSchema', () => {
  it('applies conservative defaults', () => {
    const c = RotationConfigSchema.parse(base);
    expect(c).toMatchObject({
      engine: 'postgres',
      strategy: 'alternating-users',
      gracePeriodMs: 86_400_000,
      maxGracePeriodMs: 3 * 86_400_000,
      passwordPolicy: { length: 32, exclude: '' },
      maxAttempts: 3,
      retentionVersions: 10,
    });
  });

  it('reads every key', () => {
    const c = RotationConfigSchema.parse({
      ...base,
      'rotator.engine': 'mariadb',
      'rotator.strategy': 'dual-password',
      'rotator.admin-secret': 'projects/p/locations/europe-west1/secrets/admin',
      'rotator.grace-period': '2h',
      'rotator.max-grace-period': '1d',
      'rotator.test-query': 'SELECT count(*) FROM orders',
      'rotator.password-length': '40',
      'rotator.password-exclude': '#%',
      'rotator.max-attempts': '5',
      'rotator.retention-versions': '20',
      'rotator.retention-days': '90',
      'rotator.login-pair': 'etl_blue,etl_green',
      'rotator.consumers': '{"workspace":{"host":"https://x"},"targets":[]}',
    });
    expect(c).toMatchObject({
      gracePeriodMs: 7_200_000,
      maxGracePeriodMs: 86_400_000,
      testQuery: 'SELECT count(*) FROM orders',
      passwordPolicy: { length: 40, exclude: '#%' },
      maxAttempts: 5,
      retentionVersions: 20,
      retentionDays: 90,
      loginPair: ['etl_blue', 'etl_green'],
      consumers: { workspace: { host: 'https://x' }, targets: [] },
    });
  });

  it.each([
    ['unknown engine', { 'rotator.engine': 'oracle' }, 'rotator.engine'],
    ['unknown strategy', { 'rotator.strategy': 'yolo' }, 'rotator.strategy'],
    ['self with alternating users', { 'rotator.admin-secret': 'self' }, 'rotator.admin-secret'],
    ['dual password on postgres', { 'rotator.strategy': 'dual-password' }, 'rotator.strategy'],
    [
      'admin secret not a full name',
      { 'rotator.admin-secret': 'db-admin' },
      'rotator.admin-secret',
    ],
    ['bad duration', { 'rotator.grace-period': 'soon' }, 'rotator.grace-period'],
    [
      'max grace shorter than grace',
      { 'rotator.grace-period': '2d', 'rotator.max-grace-period': '1d' },
      'rotator.max-grace-period',
    ],
    ['short password', { 'rotator.password-length': '8' }, 'rotator.password-length'],
    ['consumers not JSON', { 'rotator.consumers': '{nope' }, 'rotator.consumers'],
    ['login pair of one', { 'rotator.login-pair': 'only_one' }, 'rotator.login-pair'],
  ])('rejects %s, naming the key', (_name, override, key) => {
    const r = RotationConfigSchema.safeParse({ ...base, ...override });
    expect(r.success).toBe(false);
    if (!r.success) expect(formatConfigIssues(r.error)).toContain(key);
  });

  it('does not echo annotation values in its messages', () => {
    const r = RotationConfigSchema.safeParse({
      ...base,
      'rotator.password-length': 'hunter2-secret',
    });
    expect(r.success).toBe(false);
    if (!r.success) expect(formatConfigIssues(r.error)).not.toContain('hunter2');
  });
});

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['3600', 3_600_000],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', '1w', '-5m', '1.5h', 'h'])('rejects %p', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
});

describe('readConfig', () => {
  const snapshot = (annotations: Record<string, string>) => ({
    name: 'projects/p/secrets/db',
    etag: '"1"',
    labels: {},
    annotations,
    aliases: {},
    topics: [],
  });

  it('takes the deployment default for attempts unless the secret sets its own', () => {
    expect(readConfig(snapshot(base), { maxAttempts: 7 }).maxAttempts).toBe(7);
    expect(
      readConfig(snapshot({ ...base, 'rotator.max-attempts': '2' }), { maxAttempts: 7 })
        .maxAttempts,
    ).toBe(2);
    expect(readConfig(snapshot(base)).maxAttempts).toBe(3);
  });

  it('refuses a secret without config, and names the broken annotation otherwise', () => {
    expect(() => readConfig(snapshot({}))).toThrow(/not managed by gsm-rotator/);
    expect(() => readConfig(snapshot({ ...base, 'rotator.grace-period': 'soon' }))).toThrow(
      /rotator\.grace-period/,
    );
  });
});
