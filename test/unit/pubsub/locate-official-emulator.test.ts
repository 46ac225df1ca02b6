import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { locateOfficialEmulator } from '../../../emulator/pubsub/official-emulator';

describe('locateOfficialEmulator', () => {
  let dir: string;
  const executable = (file: string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o755 });
    return file;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gsm-locate-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('PUBSUB_EMULATOR_BIN is the only place looked at when set', () => {
    expect(locateOfficialEmulator({ PUBSUB_EMULATOR_BIN: path.join(dir, 'none') })).toEqual({
      found: false,
      reason: `no official Pub/Sub emulator at ${path.join(dir, 'none')}`,
    });
  });

  test('needs java next to the emulator', () => {
    const bin = executable(path.join(dir, 'cloud-pubsub-emulator'));
    expect(locateOfficialEmulator({ PUBSUB_EMULATOR_BIN: bin, PATH: dir })).toEqual({
      found: false,
      reason: `the official Pub/Sub emulator at ${bin} needs java, not found`,
    });
    executable(path.join(dir, 'jdk', 'bin', 'java'));
    expect(
      locateOfficialEmulator({ PUBSUB_EMULATOR_BIN: bin, JAVA_HOME: path.join(dir, 'jdk') }),
    ).toEqual({ found: true, binary: bin });
  });

  test('finds the emulator inside the SDK of a gcloud on PATH', () => {
    const sdk = path.join(dir, 'google-cloud-sdk');
    executable(path.join(sdk, 'bin', 'gcloud'));
    const bin = executable(
      path.join(sdk, 'platform', 'pubsub-emulator', 'bin', 'cloud-pubsub-emulator'),
    );
    executable(path.join(dir, 'java-bin', 'java'));
    const location = locateOfficialEmulator(
      { PATH: [path.join(sdk, 'bin'), path.join(dir, 'java-bin')].join(path.delimiter) },
      path.join(dir, 'not-packaged'),
    );
    expect(location).toEqual({ found: true, binary: bin });
  });
});
