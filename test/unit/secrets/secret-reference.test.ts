import { parseSecretReference } from '../../../shared/secrets/secret-reference';

describe('a credential reference in a workspace config', () => {
  it.each([
    ['db-token', { secret: 'projects/p1/secrets/db-token' }],
    ['projects/p2/secrets/tok', { secret: 'projects/p2/secrets/tok' }],
    ['projects/p2/secrets/tok/versions/7', { secret: 'projects/p2/secrets/tok', version: '7' }],
    [
      'projects/p2/locations/eu/secrets/tok/versions/current',
      { secret: 'projects/p2/locations/eu/secrets/tok', version: 'current' },
    ],
  ])('%s names %j', (ref, expected) => {
    expect(parseSecretReference(ref, 'p1')).toEqual(expected);
  });
});
