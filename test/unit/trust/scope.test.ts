import type { SecretSnapshot } from '../../../shared/secrets/secret-store';
import { assertInScope, inScope } from '../../../shared/trust/scope';
import { TrustError } from '../../../shared/trust/trust-error';

const snapshot = (name: string, labels: Record<string, string>): SecretSnapshot => ({
  name,
  etag: '"1"',
  labels,
  annotations: {},
  aliases: {},
  topics: [],
});
const scope = { projects: ['own', '123456', 'shared-secrets'] };
const managed = { rotator: 'managed' };

describe('the deployment scope', () => {
  it.each([
    'projects/own/secrets/db',
    'projects/123456/secrets/db',
    'projects/shared-secrets/secrets/db',
    'projects/own/locations/europe-west1/secrets/db',
  ])('covers %s when labelled rotator=managed', (name) => {
    expect(() => assertInScope(snapshot(name, managed), scope)).not.toThrow();
    expect(inScope(snapshot(name, managed), scope)).toBe(true);
  });

  it.each([
    ['another project', snapshot('projects/attacker/secrets/db', managed), /project attacker/],
    ['no label', snapshot('projects/own/secrets/db', {}), /not labelled rotator=managed/],
    ['another label value', snapshot('projects/own/secrets/db', { rotator: 'yes' }), /labelled/],
    ['a project id prefix', snapshot('projects/own-x/secrets/db', managed), /project own-x/],
  ])('refuses %s', (_why, s, message) => {
    expect(() => assertInScope(s, scope)).toThrow(TrustError);
    expect(() => assertInScope(s, scope)).toThrow(message);
    expect(inScope(s, scope)).toBe(false);
  });
});
