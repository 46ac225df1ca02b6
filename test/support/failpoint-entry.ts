import * as functions from '@google-cloud/functions-framework';
import { makeRotateSecret } from '../../functions/rotate-secret';
import { productionDeps } from '../../shared/runtime/deps';

/**
 * rotateSecret with its production wiring, plus one failpoint: when the rotation reaches the point
 * named by GSM_FAILPOINT, the process SIGKILLs itself: no catch, no finally, no flush, exactly
 * what an out-of-memory kill or a lost instance does. Used only by the crash tests.
 */
const point = process.env.GSM_FAILPOINT;
const production = productionDeps();

functions.cloudEvent(
  'rotateSecret',
  makeRotateSecret(() => ({
    ...production(),
    failpoint: (reached: string) => {
      if (reached === point) process.kill(process.pid, 'SIGKILL');
    },
  })),
);
