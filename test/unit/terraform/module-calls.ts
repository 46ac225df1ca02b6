import { isBody, type TfBlock, type TfTree } from './terraform-tree';

/**
 * What a call of the module (or a tfvars file of a root) may and must set, from the variables it
 * declares. Terraform reports an unknown or a missing argument itself, but only once providers are
 * installed; and it silently DROPS an unknown attribute inside an object (a typo such as
 * `grace_priod` in a managed secret is ignored, not refused), which these checks catch.
 */
export type Violations = string[];

/** Arguments of a module block that are not inputs. */
const META_ARGUMENTS = ['source', 'version', 'providers', 'depends_on', 'count', 'for_each'];

export interface Inputs {
  /** Every variable name. */
  all: string[];
  /** Variables without a default. */
  required: string[];
}

/** The variables of one directory (a module or a root). */
export function inputsOf(tree: TfTree, dir: string): Inputs {
  const variables = tree.variables.filter((v) => v.dir === dir);
  return {
    all: variables.map((v) => v.name).sort(),
    required: variables
      .filter((v) => !('default' in v.body))
      .map((v) => v.name)
      .sort(),
  };
}

/** Unknown and missing arguments of a set of values against inputs (`provided` count as set). */
export function checkArguments(
  label: string,
  names: readonly string[],
  inputs: Inputs,
  provided: readonly string[] = [],
): Violations {
  return [
    ...names
      .filter((n) => !inputs.all.includes(n))
      .map((n) => `${label}: ${n} is not an input (no such variable)`),
    ...inputs.required
      .filter((r) => !names.includes(r) && !provided.includes(r))
      .map((r) => `${label}: required input ${r} is not set`),
  ];
}

/** A module call's arguments against the called module's inputs. */
export function checkModuleCall(call: TfBlock, inputs: Inputs): Violations {
  const names = Object.keys(call.body).filter((k) => !META_ARGUMENTS.includes(k));
  return checkArguments(`${call.file}: module.${call.name}`, names, inputs);
}

/** The attribute names of the object type of a `map(object({ … }))` variable. */
export function objectAttributes(tree: TfTree, dir: string, variable: string): string[] {
  const type = tree.variables.find((v) => v.dir === dir && v.name === variable)?.body.type;
  const text = typeof type === 'string' ? type : '';
  // The outer object's attributes are the lines `    name = …` one level inside object({.
  const inner = text.slice(text.indexOf('object({') + 'object({'.length);
  return [...inner.matchAll(/^\s{4}([a-z_]+)\s*=/gm)].map((m) => m[1] as string).sort();
}

/** Each entry of a literal managed_secrets map sets only attributes the module knows. */
export function checkManagedSecretAttributes(
  label: string,
  secrets: unknown,
  known: readonly string[],
): Violations {
  if (!isBody(secrets)) return [];
  return Object.entries(secrets).flatMap(([id, s]) =>
    isBody(s)
      ? Object.keys(s)
          .filter((k) => !known.includes(k))
          .map(
            (k) => `${label}: managed_secrets["${id}"].${k} is not an attribute the module knows`,
          )
      : [],
  );
}
