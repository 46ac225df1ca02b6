import { readFile } from 'node:fs/promises';
import { PubSub } from '@google-cloud/pubsub';
import type { CliDeps } from '../../../cli/deps';
import { runCli } from '../../../cli/run-cli';
import { systemClock } from '../../../shared/clock';
import { engineFor } from '../../../shared/engines/registry';
import { Redactor } from '../../../shared/logging/redactor';
import { PROJECT, type RotationHarness } from '../../support/rotation-harness';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Publication {
  topic: string;
  data: string;
  attributes: Record<string, string>;
}

/**
 * `runCli` in-process against the harness's Secret Manager emulator and the real test databases.
 * The CLI gets its own, empty redactor (not the store's): a value that reached the output would be
 * printed, not masked, so the password scan of every run can see it.
 */
export function cliRunner(h: RotationHarness, base: Partial<CliDeps> = {}) {
  const published: Publication[] = [];
  let requests = 0;
  const run = async (argv: string[], over: Partial<CliDeps> = {}): Promise<CliRun> => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const deps: CliDeps = {
      env: { GCP_PROJECT: PROJECT },
      store: h.store,
      publish: async (topic, data, attributes) => {
        published.push({ topic, data, attributes });
      },
      clock: systemClock,
      engineFor: (name) => engineFor(name),
      databricksClientFor: () => {
        throw new Error('no Databricks workspace in this test');
      },
      newRequestId: () => `cli-test-${process.pid}-${++requests}`,
      readFile: (path) => readFile(path, 'utf8'),
      stdout: (t) => stdout.push(t),
      stderr: (t) => stderr.push(t),
      redactor: new Redactor(),
      pollMs: 50,
      publishTimeoutMs: 10_000,
      identity: async () => undefined,
      stderrIsTTY: false,
      onInterrupt: () => () => {},
      ...base,
      ...over,
    };
    const code = await runCli(argv, deps);
    const result = { code, stdout: stdout.join(''), stderr: stderr.join('') };
    assertNoValues(result, h.passwords);
    return result;
  };
  return { run, published };
}

/** Fail if any value (password, token) appears in what the CLI printed. */
export function assertNoValues(run: CliRun, values: Iterable<string>): void {
  const text = `${run.stdout}\n${run.stderr}`;
  const leaked = [...values].filter((v) => text.includes(v));
  if (leaked.length > 0) throw new Error(`${leaked.length} secret value(s) found in CLI output`);
}

export const json = (run: CliRun) => JSON.parse(run.stdout) as Record<string, unknown>;

/** The test's own client of the local Pub/Sub, without a metadata-server probe. */
export function localPubSub(): PubSub {
  const host = process.env.PUBSUB_EMULATOR_HOST;
  if (!host)
    throw new Error('PUBSUB_EMULATOR_HOST is not set: run through the integration project');
  return new PubSub({
    projectId: PROJECT,
    apiEndpoint: host,
    emulatorMode: true,
    universeDomain: 'googleapis.com',
  });
}
