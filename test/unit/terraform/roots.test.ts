import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseHcl } from '@cdktf/hcl2json';
import { parse as parseYaml } from 'yaml';
import {
  checkArguments,
  checkManagedSecretAttributes,
  checkModuleCall,
  inputsOf,
  objectAttributes,
} from './module-calls';
import { checkEnvironmentsRoot } from './policy-checks';
import { loadTerraform, stringAt, type TfTree } from './terraform-tree';

/**
 * The roots that call the module, checked against its variables.tf: the environments root with
 * one tfvars and one backend file per environment (one module call for all of them), and the
 * examples. Without providers (no network here) `terraform validate` cannot run on them; what can:
 * (1) the static checks below, and (2) where a terraform binary exists, a real `terraform plan` of
 * each root against a copy of the module that holds only its variables.tf: no provider is needed,
 * and Terraform itself checks every argument, type and validation rule of the module's inputs.
 */
const ROOT = path.resolve(__dirname, '../../..');
const TERRAFORM = path.join(ROOT, 'terraform');
const MODULE = 'modules/gsm-rotator';
const ENVIRONMENTS = 'environments';
const ENVS = ['dev', 'prod', 'staging'];
const EXAMPLES = readdirSync(path.join(TERRAFORM, 'examples')).sort();
/** Passed by cloudbuild.yaml (-var), so no tfvars file sets it. */
const PASSED_BY_CI = ['function_source_object'];

const hcl = async (file: string) =>
  (await parseHcl(path.basename(file), readFileSync(path.join(TERRAFORM, file), 'utf8'))) as Record<
    string,
    unknown
  >;

describe('the roots calling the module', () => {
  let tree: TfTree;

  beforeAll(async () => {
    tree = await loadTerraform(TERRAFORM);
  });

  it('has the examples minimal and with-databricks-consumers, each calling the module once', () => {
    expect(EXAMPLES).toEqual(['minimal', 'with-databricks-consumers']);
    for (const example of EXAMPLES) {
      const calls = tree.modules.filter((m) => m.dir === `examples/${example}`);
      expect(calls.map((c) => stringAt(c.body, 'source'))).toEqual(['../../modules/gsm-rotator']);
    }
  });

  it('sets every required input and no unknown one, in every module call', () => {
    const inputs = inputsOf(tree, MODULE);
    expect(inputs.required).toEqual(['environment', 'function_source', 'project_id', 'region']);
    const calls = tree.modules.filter((m) =>
      /modules\/gsm-rotator$/.test(stringAt(m.body, 'source') ?? ''),
    );
    expect(calls.map((c) => c.dir).sort()).toEqual([
      ENVIRONMENTS,
      ...EXAMPLES.map((e) => `examples/${e}`),
    ]);
    expect(calls.flatMap((c) => checkModuleCall(c, inputs))).toEqual([]);
  });

  it('names only attributes the module knows in each managed secret (Terraform would drop a typo)', async () => {
    const known = objectAttributes(tree, MODULE, 'managed_secrets');
    expect(known).toEqual(expect.arrayContaining(['engine', 'readers', 'consumers', 'schedule']));
    const literal = tree.modules
      .filter((m) => m.dir.startsWith('examples/'))
      .flatMap((m) => checkManagedSecretAttributes(m.file, m.body.managed_secrets, known));
    const tfvars: string[] = [];
    for (const env of ENVS) {
      const values = await hcl(`${ENVIRONMENTS}/${env}.tfvars`);
      tfvars.push(...checkManagedSecretAttributes(`${env}.tfvars`, values.managed_secrets, known));
    }
    expect([...literal, ...tfvars]).toEqual([]);
    // The check bites: a misspelt attribute is reported.
    expect(checkManagedSecretAttributes('x', { s: { grace_priod: '1h' } }, known)).toEqual([
      'x: managed_secrets["s"].grace_priod is not an attribute the module knows',
    ]);
  });

  it('has one environments root: one module call for every environment, state prefix per backend file', () => {
    expect(checkEnvironmentsRoot(tree, ENVIRONMENTS)).toEqual([]);
  });

  it.each(ENVS)(
    '%s: its tfvars set the root inputs and name it, its backend file its own prefix',
    async (env) => {
      const values = await hcl(`${ENVIRONMENTS}/${env}.tfvars`);
      expect(values.environment).toBe(env);
      expect(
        checkArguments(
          `${env}.tfvars`,
          Object.keys(values),
          inputsOf(tree, ENVIRONMENTS),
          PASSED_BY_CI,
        ),
      ).toEqual([]);
      expect(Object.keys(values)).not.toEqual(expect.arrayContaining(PASSED_BY_CI));
      const backend = await hcl(`${ENVIRONMENTS}/${env}.gcs.tfbackend`);
      expect(backend).toEqual({ prefix: `gsm-rotator/${env}` });
    },
  );

  it('is what cloudbuild.yaml plans and applies, per environment', () => {
    const files = readdirSync(path.join(TERRAFORM, ENVIRONMENTS));
    expect(files.filter((f) => f.endsWith('.tfvars')).sort()).toEqual(
      ENVS.map((e) => `${e}.tfvars`),
    );
    expect(files.filter((f) => f.endsWith('.gcs.tfbackend')).sort()).toEqual(
      ENVS.map((e) => `${e}.gcs.tfbackend`),
    );
    const build = parseYaml(readFileSync(path.join(ROOT, 'cloudbuild.yaml'), 'utf8')) as {
      substitutions: Record<string, string>;
      steps: { id: string; args?: string[] }[];
    };
    expect(build.substitutions._PLAN_ENVS?.split(' ').sort()).toEqual(ENVS);
    const script = (id: string) => build.steps.find((s) => s.id === id)?.args?.join('\n') ?? '';
    expect(script('terraform-plan')).toContain('-backend-config="$$env.gcs.tfbackend"');
    expect(script('terraform-apply')).toMatch(
      /-backend-config="\$\{_DEPLOY_ENV\}\.gcs\.tfbackend"/,
    );
    expect(script('terraform-plan')).toContain('-var-file="$$env.tfvars"');
  });
});

/** Where a terraform binary may be (as terraform-fmt.test.ts looks). */
const TERRAFORM_BIN = [
  '/usr/local/bin/terraform',
  ...(process.env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((d) => path.join(d, 'terraform')),
].find((c) => existsSync(c));

/**
 * A copy of `root` beside a module made of variables.tf alone, planned with `args`: Terraform
 * checks the module call (arguments, types, every validation) with no provider to download.
 * versions.tf (providers, backend) and outputs.tf (module outputs) stay behind.
 */
function planAgainstModuleInputs(root: string, args: string[], edit?: (dir: string) => void) {
  const work = mkdtempSync(path.join(tmpdir(), 'tf-roots-'));
  try {
    cpSync(path.join(TERRAFORM, MODULE, 'variables.tf'), path.join(work, MODULE, 'variables.tf'), {
      recursive: true,
    });
    for (const file of readdirSync(path.join(TERRAFORM, root))) {
      if (file === 'versions.tf' || file === 'outputs.tf' || file.endsWith('.tfbackend')) continue;
      cpSync(path.join(TERRAFORM, root, file), path.join(work, root, file));
    }
    edit?.(path.join(work, root));
    const env = { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', TF_IN_AUTOMATION: '1' };
    const run = (a: string[]) =>
      spawnSync(TERRAFORM_BIN as string, [`-chdir=${path.join(work, root)}`, ...a], {
        encoding: 'utf8',
        env,
        timeout: 60_000,
      });
    const init = run(['init', '-backend=false', '-input=false', '-no-color']);
    if (init.status !== 0) return init;
    return run(['plan', '-input=false', '-no-color', '-lock=false', ...args]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

describe('terraform plan of each root against the module inputs (offline)', () => {
  if (!TERRAFORM_BIN) {
    it('has no terraform binary here: asserted, not skipped (CI validates with providers)', () => {
      expect(TERRAFORM_BIN).toBeUndefined();
    });
    return;
  }

  it.each(EXAMPLES)('examples/%s plans with its terraform.tfvars', (example) => {
    const result = planAgainstModuleInputs(`examples/${example}`, []);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it.each(ENVS)('environments plans with %s.tfvars', (env) => {
    const result = planAgainstModuleInputs(ENVIRONMENTS, [
      `-var-file=${env}.tfvars`,
      '-var=function_source_object=gsm-rotator/BUILD.zip',
    ]);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it("runs the module's validations: a reader that is a whole domain is refused", () => {
    const result = planAgainstModuleInputs(
      ENVIRONMENTS,
      ['-var-file=bad.tfvars', '-var=function_source_object=gsm-rotator/BUILD.zip'],
      (dir) => {
        const text = readFileSync(path.join(dir, 'dev.tfvars'), 'utf8');
        writeFileSync(
          path.join(dir, 'bad.tfvars'),
          text.replace('readers = [', 'readers = ["domain:example.com", '),
        );
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('managed_secrets.*.readers must be IAM principals');
  });
});
