import { compileFilter, mapField } from '../../../emulator/secret-manager/filter';

const FIELDS = ['name', 'labels', 'state', 'create_time', 'topics', 'replication'] as const;
const view = (extra: Record<string, unknown>) => ({
  name: 'projects/p/secrets/db-prod-password',
  labels: mapField({ rotator: 'managed', env: 'prod' }),
  state: 'ENABLED',
  create_time: new Date('2026-10-02T13:00:00Z'),
  topics: [{ name: 'projects/p/topics/a' }, { name: 'projects/p/topics/b' }],
  ...extra,
});
const matches = (filter: string, extra: Record<string, unknown> = {}) =>
  compileFilter(filter, FIELDS)(view(extra));

describe('list filter', () => {
  it.each([
    ['', true],
    ['labels.rotator=managed', true],
    ['labels.rotator=off', false],
    ['labels.rotator:*', true],
    ['labels.absent:*', false],
    ['labels:env', true],
    ['name:prod', true],
    ['name:db*password', true],
    ['name:staging', false],
    ['state:ENABLED', true],
    ['state:(DISABLED OR DESTROYED)', false],
    ['NOT state:ENABLED', false],
    ['-labels.env=prod', false],
    ['labels.env!=dev', true],
    ['labels.env=prod AND state:ENABLED', true],
    ['labels.env=prod state:DISABLED', false],
    ['labels.env=dev OR state:ENABLED', true],
    ['(labels.env=dev OR labels.env=prod) AND NOT labels.rotator=off', true],
    ['create_time<2026-10-02T13:00:01Z', true],
    ['create_time>=2026-10-02T13:00:01Z', false],
    ['topics.name:projects/p/topics/b', true],
    ['labels.env="prod"', true],
    ['prod', true],
  ])('%j → %s', (filter, expected) => {
    expect(matches(filter)).toBe(expected);
  });

  it('counts a set message as present even when empty, an empty map as absent', () => {
    const automatic = { replication: { automatic: {} }, labels: mapField({}) };
    expect(matches('replication.automatic:*', automatic)).toBe(true);
    expect(matches('replication:*', automatic)).toBe(true);
    expect(matches('replication.user_managed:*', automatic)).toBe(false);
    expect(matches('labels:*', automatic)).toBe(false);
    expect(matches('replication.automatic:*', { replication: undefined })).toBe(false);
  });

  it('binds OR tighter than AND, as AIP-160', () => {
    // a AND (b OR c)
    expect(matches('labels.env=dev state:ENABLED OR labels.rotator=managed')).toBe(false);
  });

  it('refuses unknown fields and broken syntax with INVALID_ARGUMENT', () => {
    for (const filter of ['colour=red', '(labels.env=prod', 'labels.env="prod']) {
      expect(() => compileFilter(filter, FIELDS)).toThrow(expect.objectContaining({ code: 3 }));
    }
  });
});
