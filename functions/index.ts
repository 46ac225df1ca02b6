import * as functions from '@google-cloud/functions-framework';
import { productionDeps } from '../shared/runtime/deps';
import { makeRotateSecret } from './rotate-secret';

/**
 * The deployed bundle: one package, three entry points (`--entry-point` / `--target`). Each
 * function builds its dependencies lazily on its first event.
 */
const deps = productionDeps();

functions.cloudEvent('rotateSecret', makeRotateSecret(deps));
