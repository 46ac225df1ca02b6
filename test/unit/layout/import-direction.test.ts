import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

/**
 * Imports point one way: product (functions/, shared/, cli/) ← dev tooling (emulator/, devtools/,
 * local/, bench/, scripts/) ← tests (test/). What ships is the product with its `dependencies`
 * (docs/deploy.md). A product file that imports tooling or tests, or a package that is only a
 * devDependency, would load in every test and break only in production: the archive test loads
 * the entry, but the heavy modules are required lazily, on first use. Tooling that imports tests
 * would make the tests part of the tooling. So every import and require is checked here.
 */
const ROOT = path.resolve(__dirname, '../../..');
const PRODUCT = ['functions', 'shared', 'cli'];
const TOOLING = ['emulator', 'devtools', 'local', 'bench', 'scripts'];
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === 'reports' ? [] : sources(rel);
    return /\.[cm]?[tj]s$/.test(e.name) ? [rel] : [];
  });
}

/** Runtime imports only: `import type` and `typeof import()` leave nothing in the build. */
function runtimeSpecifiers(code: string): string[] {
  const found: string[] = [];
  for (const m of code.matchAll(/^import\s+(?!type\s)[^'"]*?from\s+'([^']+)'/gm))
    found.push(m[1] ?? '');
  for (const m of code.matchAll(/^export\s+(?!type\s)[^'"]*?from\s+'([^']+)'/gm))
    found.push(m[1] ?? '');
  for (const m of code.matchAll(/^import\s+'([^']+)'/gm)) found.push(m[1] ?? '');
  for (const m of code.matchAll(/(?<![.\w])require\('([^']+)'\)/g)) found.push(m[1] ?? '');
  return found;
}

/**
 * Every module a file names, type-only ones included: tsc compiles (and the build emits) a file
 * a type import reaches, so direction holds for types too.
 */
function allSpecifiers(code: string): string[] {
  const found = runtimeSpecifiers(code);
  for (const m of code.matchAll(/^(?:import|export)\s+type\s[^'"]*?from\s+'([^']+)'/gm))
    found.push(m[1] ?? '');
  for (const m of code.matchAll(/import\('([^']+)'\)/g)) found.push(m[1] ?? '');
  return found;
}

const packageOf = (spec: string) =>
  spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec);

/** The top folder a relative import of `file` lands in. */
const topFolderOf = (file: string, spec: string) =>
  path.relative(ROOT, path.resolve(ROOT, path.dirname(file), spec)).split(path.sep)[0] ?? '';

interface Import {
  file: string;
  spec: string;
}

function importsOf(folders: string[], read: (code: string) => string[]): Import[] {
  return folders
    .flatMap(sources)
    .flatMap((file) =>
      read(readFileSync(path.join(ROOT, file), 'utf8')).map((spec) => ({ file, spec })),
    );
}

describe('the product imports only the product and its dependencies', () => {
  const runtime = importsOf(PRODUCT, runtimeSpecifiers);
  const all = importsOf(PRODUCT, allSpecifiers);

  it('finds the imports it checks', () => {
    expect(PRODUCT.flatMap(sources).length).toBeGreaterThan(50);
    expect(runtime.some((i) => i.spec === 'pg')).toBe(true);
  });

  it('reaches no file outside functions/, shared/ and cli/, not even for a type', () => {
    const outside = all
      .filter((i) => i.spec.startsWith('.'))
      .filter((i) => !PRODUCT.includes(topFolderOf(i.file, i.spec)));
    expect(outside).toEqual([]);
  });

  it('loads no package that is not a production dependency', () => {
    const builtins = new Set(builtinModules);
    const missing = runtime
      .filter((i) => !i.spec.startsWith('.'))
      .filter((i) => !i.spec.startsWith('node:') && !builtins.has(i.spec))
      .filter((i) => !(packageOf(i.spec) in manifest.dependencies));
    expect(missing).toEqual([]);
  });
});

describe('dev tooling imports the product and other tooling, never the tests', () => {
  const all = importsOf(TOOLING, allSpecifiers);

  it('finds the imports it checks', () => {
    expect(all.some((i) => i.file.startsWith('emulator/databricks/'))).toBe(true);
    expect(all.some((i) => i.file.startsWith('devtools/'))).toBe(true);
    expect(all.some((i) => i.file.startsWith('bench/') && i.spec.startsWith('../devtools/'))).toBe(
      true,
    );
  });

  it('reaches no file under test/', () => {
    const intoTests = all
      .filter((i) => i.spec.startsWith('.'))
      .filter((i) => topFolderOf(i.file, i.spec) === 'test');
    expect(intoTests).toEqual([]);
  });

  it('names no test file by path either (a spawned or required source)', () => {
    const named = TOOLING.flatMap(sources).filter((file) =>
      /['"`/]test\/(support|unit|integration|e2e|fixtures)\//.test(
        readFileSync(path.join(ROOT, file), 'utf8'),
      ),
    );
    expect(named).toEqual([]);
  });
});
