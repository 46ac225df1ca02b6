// `npm run docs:terraform [-- --check]`: the Inputs and Outputs tables of a module's README.md,
// generated from its variables.tf and outputs.tf, in terraform-docs' markdown-table style.
//
// The tables sit between `<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->`; the prose around
// them is written by hand. The terraform-docs binary is not needed (nor installable here): HCL is
// parsed with @cdktf/hcl2json, which keeps expressions as `${…}` strings, so a type reads as it is
// written. `--check` exits 1 when the README is out of step (test/unit/terraform/module-readme.test.ts
// does the same in `npm test`).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from '@cdktf/hcl2json';

export const BEGIN = '<!-- BEGIN_TF_DOCS -->';
export const END = '<!-- END_TF_DOCS -->';

type Body = Record<string, unknown>;

const isBody = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `name → [body]` of one block kind in a parsed file (hcl2json writes blocks as arrays). */
function blocksOf(json: Body, kind: string): [string, Body][] {
  const byName = json[kind];
  if (!isBody(byName)) return [];
  return Object.entries(byName).flatMap(([name, bodies]) =>
    Array.isArray(bodies) && isBody(bodies[0]) ? [[name, bodies[0]] as [string, Body]] : [],
  );
}

/** `${map(string)}` → `map(string)`: hcl2json wraps every expression. */
const unwrap = (expr: string) => expr.replace(/^\$\{([\s\S]*)\}$/, '$1');

/** A table cell: one line, `|` escaped; several lines as terraform-docs does (`<br/>`). */
function cell(text: string): string {
  return text.trim().replaceAll('|', '\\|').split('\n').join('<br/>');
}

/** A code cell: `x` for one line, `<pre>` for a multi-line type or default. */
function code(text: string): string {
  if (!text.includes('\n')) return `\`${text.replaceAll('|', '\\|')}\``;
  const escaped = text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('|', '&#124;');
  return `<pre>${escaped.split('\n').join('<br/>')}</pre>`;
}

/** A default value as HCL would show it (JSON is close enough for literals). */
function defaultText(value: unknown): string {
  if (typeof value === 'string') return value.startsWith('${') ? unwrap(value) : `"${value}"`;
  return JSON.stringify(value, null, 2) ?? 'null';
}

export interface ModuleDocs {
  inputs: {
    name: string;
    description: string;
    type: string;
    default?: string;
    required: boolean;
  }[];
  outputs: { name: string; description: string }[];
}

/** Inputs (sorted, required first as terraform-docs does with --sort-by required) and outputs. */
export async function readModuleDocs(moduleDir: string): Promise<ModuleDocs> {
  const read = async (file: string) =>
    (await parse(file, readFileSync(path.join(moduleDir, file), 'utf8'))) as Body;
  const variables = blocksOf(await read('variables.tf'), 'variable');
  const outputs = blocksOf(await read('outputs.tf'), 'output');
  const inputs = variables.map(([name, body]) => {
    const required = !('default' in body);
    return {
      name,
      description: String(body.description ?? ''),
      type: typeof body.type === 'string' ? unwrap(body.type) : 'any',
      ...(required ? {} : { default: defaultText(body.default) }),
      required,
    };
  });
  inputs.sort((a, b) => Number(b.required) - Number(a.required) || a.name.localeCompare(b.name));
  return {
    inputs,
    outputs: outputs
      .map(([name, body]) => ({ name, description: String(body.description ?? '') }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** The markdown between the markers (markers excluded). */
export function renderTables(docs: ModuleDocs): string {
  const lines = [
    '## Inputs',
    '',
    '| Name | Description | Type | Default | Required |',
    '|------|-------------|------|---------|:--------:|',
    ...docs.inputs.map(
      (i) =>
        `| <a name="input_${i.name}"></a> [${i.name}](#input\\_${i.name}) | ${cell(i.description)} | ${code(i.type)} | ${i.default === undefined ? 'n/a' : code(i.default)} | ${i.required ? 'yes' : 'no'} |`,
    ),
    '',
    '## Outputs',
    '',
    '| Name | Description |',
    '|------|-------------|',
    ...docs.outputs.map(
      (o) =>
        `| <a name="output_${o.name}"></a> [${o.name}](#output\\_${o.name}) | ${cell(o.description)} |`,
    ),
  ];
  return `\n${lines.join('\n')}\n`;
}

/** The README with its tables regenerated; throws when the markers are missing. */
export async function regenerate(moduleDir: string, readme: string): Promise<string> {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md lacks ${BEGIN} … ${END}`);
  const tables = renderTables(await readModuleDocs(moduleDir));
  return readme.slice(0, start + BEGIN.length) + tables + readme.slice(end);
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const moduleDir = path.resolve(__dirname, '..', 'terraform', 'modules', 'gsm-rotator');
  const file = path.join(moduleDir, 'README.md');
  const before = readFileSync(file, 'utf8');
  const after = await regenerate(moduleDir, before);
  if (check) {
    if (before !== after) {
      process.stderr.write(
        `${path.relative(process.cwd(), file)} is out of date: npm run docs:terraform\n`,
      );
      process.exitCode = 1;
    }
    return;
  }
  if (before !== after) writeFileSync(file, after);
  process.stdout.write(
    `${path.relative(process.cwd(), file)}: ${before === after ? 'up to date' : 'updated'}\n`,
  );
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
