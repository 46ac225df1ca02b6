import { spawn } from 'node:child_process';
import path from 'node:path';
import { locateOfficialEmulator } from '../../../emulator/pubsub/official-emulator';
import { startPubSub } from '../../../emulator/pubsub/start';
import { isRunning } from './process-state';
import { describePubSubScenarios } from './scenarios';
import { waitFor } from './wait-for';

const official = locateOfficialEmulator();

if (official.found) {
  describePubSubScenarios('official emulator', 'official-emulator', () =>
    startPubSub({ prefer: 'official' }),
  );

  describe('official emulator process lifecycle', () => {
    test('[official emulator] stop() ends the emulator process', async () => {
      const pubsub = await startPubSub({ prefer: 'official' });
      const pid = pubsub.pid ?? 0;
      expect(isRunning(pid)).toBe(true);
      await pubsub.stop();
      expect(isRunning(pid)).toBe(false);
    });

    test('[official emulator] the emulator dies with its parent, even on SIGKILL', async () => {
      const child = spawn(
        process.execPath,
        [
          '-r',
          'ts-node/register/transpile-only',
          path.join(__dirname, 'fixtures', 'start-and-hold.ts'),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        await waitFor('the emulator pid', () => out.includes('\n'), 20_000);
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
      const pid = Number(out.trim());
      expect(pid).toBeGreaterThan(0);
      await waitFor('the orphaned emulator to be killed', () => !isRunning(pid), 10_000);
    });
  });
} else {
  // Not silently skipped: on a machine without google-cloud-cli, prove the fallback instead.
  describe('official emulator (not installed here)', () => {
    test(`startPubSub('auto') falls back to the in-process stand-in and says so`, async () => {
      const saved = process.env.GSM_PUBSUB;
      delete process.env.GSM_PUBSUB;
      try {
        const pubsub = await startPubSub({ prefer: 'auto' });
        await pubsub.stop();
        expect(pubsub.kind).toBe('in-process');
        expect(pubsub.reason).toContain(official.reason);
      } finally {
        if (saved !== undefined) process.env.GSM_PUBSUB = saved;
      }
    });
  });
}
