import * as functions from '@google-cloud/functions-framework';
import { productionDeps } from '../shared/runtime/deps';
import { makeRefreshConsumers } from './refresh-consumers';
import { makeRetireVersions } from './retire-versions';
import { makeRotateSecret } from './rotate-secret';

/**
 * The deployed bundle: one package, three entry points (`--entry-point` / `--target`). Each
 * function builds its dependencies lazily on its first event, so a cold start loads no client.
 */
const deps = productionDeps();

functions.cloudEvent('rotateSecret', makeRotateSecret(deps));
functions.cloudEvent('refreshConsumers', makeRefreshConsumers(deps));
functions.cloudEvent('retireVersions', makeRetireVersions(deps));
