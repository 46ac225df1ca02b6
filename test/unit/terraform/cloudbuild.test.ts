import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

/**
 * cloudbuild.yaml cannot run here; these tests check what Cloud Build would reject or get wrong
 * before any step runs (unknown substitutions, broken waitFor), the order of the pipeline, and
 * the guard that keeps prod behind the approval-gated trigger, by running its script.
 */
const ROOT = path.resolve(__dirname, '../../..');
const FILE = path.join(ROOT, 'cloudbuild.yaml');
const TEXT = readFileSync(FILE, 'utf8');

const StepSchema = z.object({
  id: z.string(),
  name: z.string(),
  entrypoint: z.string().optional(),
  args: z.array(z.string()).default([]),
  env: z.array(z.string()).default([]),
  waitFor: z.array(z.string()).optional(),
});
const ConfigSchema = z.object({
  substitutions: z.record(z.string(), z.string()),
  options: z.object({ logging: z.string() }).loose(),
  timeout: z.string(),
  steps: z.array(StepSchema),
});
const config = ConfigSchema.parse(parse(TEXT));
const step = (id: string) => {
  const found = config.steps.find((s) => s.id === id);
  if (!found) throw new Error(`no step ${id}`);
  return found;
};

// Cloud Build's built-in substitutions (cloud-build/docs/configuring-builds/substitute-variable-values).
const BUILT_IN = [
  'PROJECT_ID',
  'PROJECT_NUMBER',
  'BUILD_ID',
  'LOCATION',
  'TRIGGER_NAME',
  'COMMIT_SHA',
  'REVISION_ID',
  'SHORT_SHA',
  'REPO_NAME',
  'REPO_FULL_NAME',
  'BRANCH_NAME',
  'TAG_NAME',
  'REF_NAME',
  'TRIGGER_BUILD_CONFIG_PATH',
  'SERVICE_ACCOUNT_EMAIL',
  'SERVICE_ACCOUNT',
];

/** `$NAME` and `${NAME}` in a step; `$$` is Cloud Build's escape for a shell `$`. */
const substitutionsIn = (text: string) =>
  [...text.replaceAll('$$', '').matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g)].map((m) => m[1]);

/** The guard step's script as Cloud Build would hand it to bash. */
function runGuard(values: Record<string, string>) {
  const script = step('guard').args.at(-1) ?? '';
  const all: Record<string, string> = { ...config.substitutions, TRIGGER_NAME: '', ...values };
  const substituted = script.replace(
    /\$\$|\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g,
    (match, name: string | undefined) => (name === undefined ? '$' : (all[name] ?? match)),
  );
  return spawnSync('bash', ['-ceu', substituted], { encoding: 'utf8' });
}

describe('cloudbuild.yaml', () => {
  it('uses only defined substitutions, uses every one it defines, and documents each', () => {
    const used = config.steps.flatMap((s) =>
      [s.name, s.entrypoint ?? '', ...s.args, ...s.env].flatMap(substitutionsIn),
    );
    const defined = Object.keys(config.substitutions);
    expect(
      used.filter((name) => !defined.includes(name ?? '') && !BUILT_IN.includes(name ?? '')),
    ).toEqual([]);
    expect(defined.filter((name) => !used.includes(name))).toEqual([]);
    const header = TEXT.slice(0, TEXT.indexOf('\nsubstitutions:'));
    for (const name of defined) expect(header).toMatch(new RegExp(`#\\s+${name}\\s`));
    for (const name of defined) expect(name).toMatch(/^_[A-Z0-9_]+$/);
  });

  it('has unique step ids and waits only for steps that exist before it', () => {
    const ids = config.steps.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    config.steps.forEach((s, index) => {
      for (const dependency of s.waitFor ?? []) {
        if (dependency !== '-') expect(ids.slice(0, index)).toContain(dependency);
      }
    });
  });

  it('builds only after type-check, lint, unit and integration tests, and applies only its own plan', () => {
    expect(step('build').waitFor).toEqual([
      'typecheck',
      'lint',
      'unit-tests',
      'unit-tests-runtime',
      'integration-tests',
    ]);
    expect(step('terraform-plan').waitFor).toEqual(
      expect.arrayContaining(['terraform-validate', 'upload']),
    );
    expect(step('terraform-apply').waitFor).toEqual(['terraform-plan']);
    const apply = step('terraform-apply').args.join('\n');
    expect(apply).toMatch(
      /apply [^\n]*\\\n\s+-lock-timeout=5m "\/workspace\/\.tfplan\/\$\{_DEPLOY_ENV\}\.tfplan"/,
    );
    expect(apply).not.toContain('-auto-approve');
    expect(step('terraform-fmt').args).toEqual([
      'fmt',
      '-check',
      '-recursive',
      '-diff',
      'terraform',
    ]);
  });

  it('runs the integration and e2e suites with real servers and the official Pub/Sub emulator', () => {
    const integration = step('integration-tests');
    expect(integration.env).toContain('REQUIRE_PUBSUB_EMULATOR=1');
    const script = integration.args.join('\n');
    expect(script).toContain('bash .ci/ensure-server-binaries.sh');
    expect(script).toContain('google-cloud-cli-pubsub-emulator');
    expect(script).toContain('node test/run-tests.js --selectProjects integration e2e');
    expect(step('unit-tests').args).toEqual(['test/run-tests.js', '--selectProjects', 'unit']);
    // The deployed runtime's Node version runs the same unit tests.
    expect(step('unit-tests-runtime').args).toEqual(step('unit-tests').args);
    expect(substitutionsIn(step('unit-tests-runtime').name)).toEqual(['_RUNTIME_NODE_IMAGE']);
    const variables = readFileSync(
      path.join(ROOT, 'terraform/modules/gsm-rotator/variables.tf'),
      'utf8',
    );
    const runtime = /variable "function_runtime" \{[\s\S]*?default\s*=\s*"nodejs(\d+)"/.exec(
      variables,
    );
    expect(config.substitutions._RUNTIME_NODE_IMAGE).toMatch(
      new RegExp(`^node:${runtime?.[1]}\\b`),
    );
    // package.json engines admits both the CI Node and the deployed runtime's.
    const engines = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).engines.node;
    expect(engines).toBe(`^20 || ^${runtime?.[1]}`);
  });

  it('lets prod be applied only by the approval-gated prod trigger', () => {
    expect(runGuard({ _DEPLOY_ENV: 'none' }).status).toBe(0);
    expect(runGuard({ _DEPLOY_ENV: 'dev', TRIGGER_NAME: 'gsm-rotator-dev-deploy' }).status).toBe(0);
    expect(runGuard({ _DEPLOY_ENV: 'prod', TRIGGER_NAME: 'gsm-rotator-prod-deploy' }).status).toBe(
      0,
    );

    const manual = runGuard({ _DEPLOY_ENV: 'prod', TRIGGER_NAME: '' });
    expect(manual.status).toBe(1);
    expect(manual.stdout).toContain('prod is applied only by the approval-gated trigger');
    expect(runGuard({ _DEPLOY_ENV: 'prod', TRIGGER_NAME: 'gsm-rotator-dev-deploy' }).status).toBe(
      1,
    );
  });

  it('rejects an unknown environment, and one it would not plan', () => {
    expect(runGuard({ _DEPLOY_ENV: 'qa' }).stdout).toContain(
      '_DEPLOY_ENV must be none, dev, staging or prod',
    );
    const unplanned = runGuard({ _DEPLOY_ENV: 'staging', _PLAN_ENVS: 'dev' });
    expect(unplanned.status).toBe(1);
    expect(unplanned.stdout).toContain('must include _DEPLOY_ENV');
  });
});
