import { startPubSub } from '../../../emulator/pubsub/start';
import { describePubSubScenarios } from './scenarios';

describePubSubScenarios('in-process stand-in', 'in-process', () =>
  startPubSub({ prefer: 'in-process' }),
);
