import { RotationConfigSchema } from '../../../shared/config/rotation-config';
import {
  nextRetireCheck,
  RECHECK_MS,
  retireCheckDue,
  withRetireCheck,
} from '../../../shared/retirement/next-check';
import type { SecretSnapshot, VersionInfo } from '../../../shared/secrets/secret-store';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-11-27T00:00:00Z');
const config = RotationConfigSchema.parse({
  'rotator.engine': 'postgres',
  'rotator.strategy': 'alternating-users',
  'rotator.admin-secret': 'projects/p/secrets/admin',
  'rotator.grace-period': '1h',
  'rotator.max-grace-period': '4h',
});
const snapshot = (annotations: Record<string, string> = {}): SecretSnapshot => ({
  name: 'projects/p/secrets/db',
  etag: '"1"',
  labels: {},
  annotations: {
    'rotator.state': JSON.stringify({ v: 1, status: 'idle', promotedAt: T0, lastStartedAt: T0 }),
    ...annotations,
  },
  aliases: { current: 3, previous: 2 },
  topics: [],
});
const v = (number: number, state: VersionInfo['state'] = 'ENABLED', createTime = T0) => ({
  number,
  state,
  createTime,
  etag: `"${number}"`,
});

describe('the retire tick decides from the Secret alone whether anything can be due', () => {
  it('a secret never checked must be listed', () => {
    expect(retireCheckDue(snapshot(), T0)).toBe(true);
  });

  it('`previous` in its grace window: nothing due until the window ends', () => {
    const s = snapshot();
    const at = nextRetireCheck(s, [v(3), v(2), v(1, 'DISABLED')], config, [], T0 + 1000);
    expect(at).toBe(T0 + HOUR);
    const marked = { ...s, annotations: withRetireCheck(s, at) };
    expect(retireCheckDue(marked, T0 + HOUR - 1)).toBe(false);
    expect(retireCheckDue(marked, T0 + HOUR)).toBe(true);
  });

  it('any change of the Secret (state, refresh record, alias) makes it due at once', () => {
    const s = snapshot();
    const marked = { ...s, annotations: withRetireCheck(s, T0 + HOUR) };
    expect(retireCheckDue(marked, T0)).toBe(false);
    const refreshed = {
      ...marked,
      annotations: { ...marked.annotations, 'rotator.refresh': '{"v":1}' },
    };
    expect(retireCheckDue(refreshed, T0)).toBe(true);
    expect(retireCheckDue({ ...marked, aliases: { current: 4, previous: 3 } }, T0)).toBe(true);
  });

  it('nothing pending: looked at again within a day; a version reaching its retention age sooner', () => {
    const s = snapshot();
    const idle = { ...s, aliases: { current: 3 } };
    expect(nextRetireCheck(idle, [v(3), v(2, 'DISABLED')], config, [], T0)).toBe(T0 + RECHECK_MS);
    const aged = { ...config, retentionDays: 7 };
    const created = T0 - 6.5 * DAY;
    expect(nextRetireCheck(idle, [v(3), v(2, 'DISABLED', created)], aged, [], T0)).toBe(
      created + 7 * DAY + 1,
    );
  });
});
