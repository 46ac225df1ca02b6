import { chooseBackend } from '../../../emulator/pubsub/choose-backend';

const found = { found: true as const, binary: '/sdk/cloud-pubsub-emulator' };
const missing = { found: false as const, reason: 'no official Pub/Sub emulator at /x' };

describe('chooseBackend', () => {
  test('auto runs the official emulator when it is installed', () => {
    expect(chooseBackend('auto', {}, found)).toEqual({
      backend: 'official',
      binary: found.binary,
      reason: 'official emulator installed on this machine',
    });
  });

  test('auto falls back to the stand-in, quoting why', () => {
    expect(chooseBackend('auto', {}, missing)).toEqual({
      backend: 'in-process',
      reason: 'no official Pub/Sub emulator at /x; using the in-process stand-in',
    });
  });

  test('GSM_PUBSUB forces a choice under auto only', () => {
    expect(chooseBackend('auto', { GSM_PUBSUB: 'in-process' }, found).backend).toBe('in-process');
    expect(chooseBackend('official', { GSM_PUBSUB: 'in-process' }, found).backend).toBe('official');
    expect(chooseBackend('in-process', { GSM_PUBSUB: 'official' }, found).backend).toBe(
      'in-process',
    );
    expect(() => chooseBackend('auto', { GSM_PUBSUB: 'official' }, missing)).toThrow(
      'GSM_PUBSUB asked for the official Pub/Sub emulator: no official Pub/Sub emulator at /x',
    );
  });

  test('REQUIRE_PUBSUB_EMULATOR=1 refuses the automatic fallback', () => {
    expect(() => chooseBackend('auto', { REQUIRE_PUBSUB_EMULATOR: '1' }, missing)).toThrow(
      'REQUIRE_PUBSUB_EMULATOR=1 but no official Pub/Sub emulator at /x',
    );
    expect(chooseBackend('auto', { REQUIRE_PUBSUB_EMULATOR: '1' }, found).backend).toBe('official');
    expect(() =>
      chooseBackend('auto', { REQUIRE_PUBSUB_EMULATOR: '1', GSM_PUBSUB: 'in-process' }, found),
    ).toThrow('GSM_PUBSUB=in-process contradicts REQUIRE_PUBSUB_EMULATOR=1');
    // A test that asks for the stand-in explicitly still gets it.
    expect(chooseBackend('in-process', { REQUIRE_PUBSUB_EMULATOR: '1' }, found).backend).toBe(
      'in-process',
    );
  });

  test('unknown values are refused, not guessed', () => {
    expect(() => chooseBackend('auto', { GSM_PUBSUB: 'java' }, found)).toThrow(
      /invalid GSM_PUBSUB/,
    );
    expect(() => chooseBackend('auto', { REQUIRE_PUBSUB_EMULATOR: 'yes' }, found)).toThrow(
      /REQUIRE_PUBSUB_EMULATOR/,
    );
  });
});
