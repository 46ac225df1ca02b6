import type { CliDeps } from '../../../cli/deps';
import { Redactor } from '../../../shared/logging/redactor';

/**
 * Deps for argument-handling tests: captured output, and a world that fails the test if it is
 * touched (a usage error must be reported before any network call).
 */
export function offlineDeps(env: NodeJS.ProcessEnv = { GCP_PROJECT: 'demo-project' }) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const untouchable = (what: string) => () => {
    throw new Error(`${what} must not be used`);
  };
  const store = new Proxy(
    {},
    {
      get: (_t, prop) => untouchable(`store.${String(prop)}`),
    },
  ) as CliDeps['store'];
  const deps: CliDeps = {
    env,
    store,
    publish: untouchable('publish'),
    clock: { now: () => 0, sleep: untouchable('clock.sleep') },
    engineFor: untouchable('engineFor'),
    databricksClientFor: untouchable('databricksClientFor'),
    newRequestId: () => 'cli-test',
    readFile: untouchable('readFile'),
    stdout: (t) => stdout.push(t),
    stderr: (t) => stderr.push(t),
    redactor: new Redactor(),
    pollMs: 10,
    publishTimeoutMs: 1_000,
    identity: async () => undefined,
    stderrIsTTY: false,
    onInterrupt: () => () => {},
  };
  return { deps, stdout: () => stdout.join(''), stderr: () => stderr.join('') };
}
