import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from '@cdktf/hcl2json';

/**
 * The terraform/ tree as @cdktf/hcl2json sees it: every block keeps its file and directory, and
 * expressions stay strings (`${google_pubsub_topic.event["secret_events"].id}`), which is what the
 * policy checks look at. Terraform itself cannot run here (no providers), so this is the proof.
 */
export type HclBody = Record<string, unknown>;

export interface TfBlock {
  /** Directory of the file, relative to the tree root: one module or one root. */
  dir: string;
  file: string;
  type: string;
  name: string;
  body: HclBody;
}

export interface TfTree {
  files: string[];
  resources: TfBlock[];
  variables: TfBlock[];
  modules: TfBlock[];
  outputs: TfBlock[];
  /** `terraform { … }` blocks, with backend and required_providers. */
  settings: TfBlock[];
  /** Locals merged per directory. */
  locals: Map<string, HclBody>;
}

export function isBody(value: unknown): value is HclBody {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** hcl2json writes every block as an array of bodies; this returns them (or none). */
export function blocks(body: HclBody, key: string): HclBody[] {
  const value = body[key];
  return Array.isArray(value) ? value.filter(isBody) : [];
}

export function firstBlock(body: HclBody, key: string): HclBody | undefined {
  return blocks(body, key)[0];
}

export function stringAt(body: HclBody | undefined, key: string): string | undefined {
  const value = body?.[key];
  return typeof value === 'string' ? value : undefined;
}

function tfFilesUnder(root: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue; // .terraform/ caches
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) out.push(...tfFilesUnder(full));
    else if (entry.name.endsWith('.tf')) out.push(full);
  }
  return out.sort();
}

function collect(tree: TfTree, dir: string, file: string, json: HclBody): void {
  const byType = json.resource;
  if (isBody(byType)) {
    for (const [type, byName] of Object.entries(byType)) {
      if (!isBody(byName)) continue;
      for (const [name, bodies] of Object.entries(byName)) {
        for (const body of Array.isArray(bodies) ? bodies.filter(isBody) : []) {
          tree.resources.push({ dir, file, type, name, body });
        }
      }
    }
  }
  for (const [kind, target] of [
    ['variable', tree.variables],
    ['module', tree.modules],
    ['output', tree.outputs],
  ] as const) {
    const byName = json[kind];
    if (!isBody(byName)) continue;
    for (const [name, bodies] of Object.entries(byName)) {
      for (const body of Array.isArray(bodies) ? bodies.filter(isBody) : []) {
        target.push({ dir, file, type: kind, name, body });
      }
    }
  }
  for (const body of blocks(json, 'terraform')) {
    tree.settings.push({ dir, file, type: 'terraform', name: 'terraform', body });
  }
  for (const body of blocks(json, 'locals')) {
    tree.locals.set(dir, { ...(tree.locals.get(dir) ?? {}), ...body });
  }
}

/** Parses sources given as `{ 'dir/file.tf': text }` (used by the tests' bad examples too). */
export async function parseTerraform(sources: Record<string, string>): Promise<TfTree> {
  const tree: TfTree = {
    files: [],
    resources: [],
    variables: [],
    modules: [],
    outputs: [],
    settings: [],
    locals: new Map(),
  };
  // One parse per file, in sequence: the wasm parser is single-threaded anyway.
  for (const [file, text] of Object.entries(sources)) {
    const json = (await parse(path.basename(file), text)) as HclBody;
    tree.files.push(file);
    collect(tree, path.dirname(file), file, json);
  }
  return tree;
}

/** Every .tf file under `root`, parsed once; paths relative to `root`. */
export async function loadTerraform(root: string): Promise<TfTree> {
  const sources: Record<string, string> = {};
  for (const file of tfFilesUnder(root)) {
    sources[path.relative(root, file)] = readFileSync(file, 'utf8');
  }
  return parseTerraform(sources);
}

export function resourcesOf(tree: TfTree, ...types: string[]): TfBlock[] {
  return tree.resources.filter((r) => types.includes(r.type));
}

/** `google_service_account.function` → the block, in the same directory as `from`. */
export function resolveResource(tree: TfTree, from: TfBlock, address: string): TfBlock | undefined {
  const [type, name] = address.split('.');
  return tree.resources.find((r) => r.dir === from.dir && r.type === type && r.name === name);
}

/** The addresses (`type.name`) of the resources of `type` an expression refers to. */
export function referencesTo(expression: string, type: string): string[] {
  const found = new Set<string>();
  for (const m of expression.matchAll(new RegExp(`\\b${type}\\.([A-Za-z0-9_-]+)`, 'g'))) {
    found.add(`${type}.${m[1]}`);
  }
  return [...found];
}

/** A list value: a literal array, or `${local.NAME}` resolved from the directory's locals. */
export function resolveStringList(tree: TfTree, dir: string, value: unknown): string[] | undefined {
  if (Array.isArray(value)) {
    return value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
  }
  const local = typeof value === 'string' ? /^\$\{local\.([A-Za-z0-9_]+)\}$/.exec(value) : null;
  if (!local?.[1]) return undefined;
  return resolveStringList(tree, dir, tree.locals.get(dir)?.[local[1]]);
}
