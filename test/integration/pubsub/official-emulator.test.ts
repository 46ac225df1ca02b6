import { locateOfficialEmulator } from '../../../emulator/pubsub/official-emulator';
import { startPubSub } from '../../../emulator/pubsub/start';
import { describePubSubScenarios } from './scenarios';

const official = locateOfficialEmulator();

if (official.found) {
  describePubSubScenarios('official emulator', 'official-emulator', () =>
    startPubSub({ prefer: 'official' }),
  );
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
