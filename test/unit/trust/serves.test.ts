import {
  assertNotAdminLogin,
  assertServes,
  readServes,
  SERVES_KEY,
} from '../../../shared/trust/serves';
import { TrustError } from '../../../shared/trust/trust-error';

const ADMIN = 'projects/p/secrets/orders-admin';
const ORDERS = 'projects/p/secrets/orders-app';
const REGIONAL = 'projects/p/locations/europe-west1/secrets/orders-etl';
const annotations = (serves: unknown) => ({
  [SERVES_KEY]: typeof serves === 'string' ? serves : JSON.stringify(serves),
});
const binding = annotations({ [ORDERS]: ['orders_app', 'orders_app_clone'], [REGIONAL]: ['etl'] });

describe('rotator.serves on the admin secret', () => {
  it('allows a listed secret and listed logins, regional secrets too', () => {
    expect(assertServes(ADMIN, binding, ORDERS, ['orders_app', 'orders_app_clone'])).toEqual([
      'orders_app',
      'orders_app_clone',
    ]);
    expect(assertServes(ADMIN, binding, REGIONAL, ['etl'])).toEqual(['etl']);
  });

  it.each([
    ['no annotation at all', {}, ORDERS, ['orders_app'], /has no rotator.serves/],
    ['an annotation that is not JSON', annotations('{nope'), ORDERS, ['orders_app'], /not JSON/],
    ['keys that are not secret names', annotations({ orders: ['a'] }), ORDERS, ['a'], /invalid/],
    ['a login list that is empty', annotations({ [ORDERS]: [] }), ORDERS, ['a'], /invalid/],
    ['a hostile login name', annotations({ [ORDERS]: ['a"; DROP'] }), ORDERS, ['a'], /invalid/],
    [
      'another secret',
      binding,
      'projects/evil/secrets/orders-app',
      ['orders_app'],
      /does not serve secret/,
    ],
    [
      'the same id in another project',
      binding,
      'projects/q/secrets/orders-app',
      ['orders_app'],
      /does not serve secret/,
    ],
    [
      'a global name for a regional key',
      binding,
      'projects/p/secrets/orders-etl',
      ['etl'],
      /does not serve secret/,
    ],
    ['a login not listed', binding, ORDERS, ['payments_app'], /does not serve login payments_app/],
    [
      'the second login of a pair not listed',
      binding,
      REGIONAL,
      ['etl', 'etl_clone'],
      /does not serve login etl_clone/,
    ],
    [
      'a login of another secret',
      binding,
      REGIONAL,
      ['orders_app'],
      /does not serve login orders_app/,
    ],
  ] as const)('refuses %s', (_why, ann, secret, logins, message) => {
    expect(() => assertServes(ADMIN, ann, secret, logins)).toThrow(TrustError);
    expect(() => assertServes(ADMIN, ann, secret, logins)).toThrow(message);
  });

  it('names the admin secret, the secret and the login, and no value', () => {
    expect(() => assertServes(ADMIN, binding, ORDERS, ['payments_app'])).toThrow(
      `admin secret ${ADMIN} does not serve login payments_app for secret ${ORDERS}`,
    );
  });

  it("refuses the admin's own login, asked for or merely listed", () => {
    expect(() => assertNotAdminLogin(ADMIN, 'postgres', ORDERS, ['postgres'], ['app'])).toThrow(
      /own login/,
    );
    expect(() =>
      assertNotAdminLogin(ADMIN, 'postgres', ORDERS, ['app'], ['app', 'postgres']),
    ).toThrow(TrustError);
    expect(() => assertNotAdminLogin(ADMIN, 'postgres', ORDERS, ['app'], ['app'])).not.toThrow();
  });

  it('parses the documented shape', () => {
    expect(readServes(ADMIN, binding)).toEqual({
      [ORDERS]: ['orders_app', 'orders_app_clone'],
      [REGIONAL]: ['etl'],
    });
  });
});
