import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startSecretManagerEmulator } from '../../../emulator/secret-manager';
import { AUTOMATIC, at, manualClock, type Rig, seconds, startRig, TOPIC } from './harness';

describe('SM emulator: state file', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sm-emulator-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps secrets, versions, states, aliases and etags across a restart', async () => {
    const stateFile = path.join(dir, 'nested', 'state.json');
    const first: Rig = await startRig({ stateFile });
    const [s] = await first.client.createSecret({
      parent: 'projects/p',
      secretId: 'durable',
      secret: {
        replication: AUTOMATIC,
        labels: { rotator: 'managed' },
        annotations: { step: 'done' },
      },
    });
    await first.client.addSecretVersion({ parent: s.name, payload: { data: Buffer.from('one') } });
    await first.client.addSecretVersion({ parent: s.name, payload: { data: Buffer.from('two') } });
    await first.client.disableSecretVersion({ name: `${s.name}/versions/1` });
    const [before] = await first.client.updateSecret({
      secret: { name: s.name, versionAliases: { current: 2 } },
      updateMask: { paths: ['version_aliases'] },
    });
    const [regional] = await first.client.createSecret({
      parent: 'projects/p/locations/us-central1',
      secretId: 'durable',
      secret: {},
    });
    await first.client.addSecretVersion({
      parent: regional.name,
      payload: { data: Buffer.from('r') },
    });
    await first.stop();

    expect(fs.statSync(stateFile).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(path.dirname(stateFile))).toEqual(['state.json']);

    const second = await startRig({ stateFile });
    try {
      const [after] = await second.client.getSecret({ name: s.name });
      expect(after).toMatchObject({
        labels: { rotator: 'managed' },
        annotations: { step: 'done' },
        versionAliases: { current: '2' },
        etag: before.etag,
        createTime: before.createTime,
      });
      const [current] = await second.client.accessSecretVersion({
        name: `${s.name}/versions/current`,
      });
      expect(current.payload?.data?.toString()).toBe('two');
      const [v1] = await second.client.getSecretVersion({ name: `${s.name}/versions/1` });
      expect(v1.state).toBe('DISABLED');
      const [v3] = await second.client.addSecretVersion({
        parent: s.name,
        payload: { data: Buffer.from('three') },
      });
      expect(v3.name).toBe(`${s.name}/versions/3`);
      const [updated] = await second.client.updateSecret({
        secret: { name: s.name, etag: before.etag },
        updateMask: { paths: [] },
      });
      expect(updated.etag).not.toBe(before.etag);
      const [r] = await second.client.accessSecretVersion({
        name: `${regional.name}/versions/latest`,
      });
      expect(r.payload?.data?.toString()).toBe('r');
    } finally {
      await second.stop();
    }
  });

  it('processes what came due while it was down at start', async () => {
    const stateFile = path.join(dir, 'rotation.json');
    const clock = manualClock();
    const first = await startRig({ stateFile, clock });
    const [s] = await first.client.createSecret({
      parent: 'projects/p',
      secretId: 'rotating',
      secret: {
        replication: AUTOMATIC,
        topics: [{ name: TOPIC }],
        rotation: { nextRotationTime: at(clock, 3_600_000), rotationPeriod: seconds(86_400) },
      },
    });
    await first.stop();
    clock.advance(2 * 3_600_000);
    const second = await startRig({ stateFile, clock });
    try {
      expect(
        second.emulator.notifications.messages.map((m) => [m.eventType, m.attributes.secretId]),
      ).toEqual([['SECRET_ROTATE', s.name]]);
    } finally {
      await second.stop();
    }
  });

  it('refuses to start on a file that is not its state', async () => {
    const stateFile = path.join(dir, 'garbage.json');
    fs.writeFileSync(stateFile, JSON.stringify({ secrets: 'nope' }));
    await expect(startSecretManagerEmulator({ stateFile })).rejects.toThrow(
      'is not a Secret Manager emulator state file',
    );
  });
});
