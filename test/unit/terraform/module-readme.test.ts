import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BEGIN, END, readModuleDocs, regenerate } from '../../../scripts/terraform-docs';

/**
 * The module README's Inputs and Outputs tables are generated from variables.tf and outputs.tf
 * (`npm run docs:terraform`); a variable or output added, removed or re-described without
 * regenerating fails here.
 */
const MODULE = path.resolve(__dirname, '../../../terraform/modules/gsm-rotator');

describe('terraform/modules/gsm-rotator/README.md', () => {
  it('has the tables generate would write (run `npm run docs:terraform`)', async () => {
    const readme = readFileSync(path.join(MODULE, 'README.md'), 'utf8');
    expect(readme).toContain(BEGIN);
    expect(readme).toContain(END);
    expect(await regenerate(MODULE, readme)).toBe(readme);
  });

  it('lists every variable and output exactly once, required inputs marked', async () => {
    const docs = await readModuleDocs(MODULE);
    const variables = readFileSync(path.join(MODULE, 'variables.tf'), 'utf8');
    const outputs = readFileSync(path.join(MODULE, 'outputs.tf'), 'utf8');
    const names = (text: string, kind: string) =>
      [...text.matchAll(new RegExp(`^${kind} "([a-z0-9_]+)"`, 'gm'))].map((m) => m[1]).sort();
    expect(docs.inputs.map((i) => i.name).sort()).toEqual(names(variables, 'variable'));
    expect(docs.outputs.map((o) => o.name).sort()).toEqual(names(outputs, 'output'));
    expect(docs.inputs.filter((i) => i.required).map((i) => i.name)).toEqual([
      'environment',
      'function_source',
      'project_id',
      'region',
    ]);
    // Every input and output says what it is.
    expect(docs.inputs.filter((i) => i.description.length < 20)).toEqual([]);
    expect(docs.outputs.filter((o) => o.description.length < 20)).toEqual([]);
  });

  it('would notice a stale table', async () => {
    const readme = readFileSync(path.join(MODULE, 'README.md'), 'utf8');
    const stale = readme.replace(/\| <a name="input_log_level">[^\n]*\n/, '');
    expect(stale).not.toBe(readme);
    expect(await regenerate(MODULE, stale)).toBe(readme);
  });
});
