import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

/**
 * What ships is functions/, shared/ and cli/ with their `dependencies` (docs/deploy.md). A product
 * file that imports dev tooling or tests, or a package that is only a devDependency, would load in
 * every test and break only in production: the archive test loads the entry, but the heavy
 * modules are required lazily, on first use. So every import and require is checked here.
 */
const ROOT = path.resolve(__dirname, '../../..');
const PRODUCT = ['functions', 'shared', 'cli'];
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return sources(rel);
    return e.name.endsWith('.ts') ? [rel] : [];
  });
}

/** Runtime imports only: `import type` and `typeof import()` leave nothing in the build. */
function specifiers(code: string): string[] {
  const found: string[] = [];
  for (const m of code.matchAll(/^import\s+(?!type\s)[^'"]*?from\s+'([^']+)'/gm))
    found.push(m[1] ?? '');
  for (const m of code.matchAll(/^import\s+'([^']+)'/gm)) found.push(m[1] ?? '');
  for (const m of code.matchAll(/(?<![.\w])require\('([^']+)'\)/g)) found.push(m[1] ?? '');
  return found;
}

const packageOf = (spec: string) =>
  spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec);

describe('the product imports only the product and its dependencies', () => {
  const files = PRODUCT.flatMap(sources);
  const imports = files.flatMap((file) =>
    specifiers(readFileSync(path.join(ROOT, file), 'utf8')).map((spec) => ({ file, spec })),
  );

  it('finds the imports it checks', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(imports.some((i) => i.spec === 'pg')).toBe(true);
  });

  it('reaches no file outside functions/, shared/ and cli/', () => {
    const outside = imports
      .filter((i) => i.spec.startsWith('.'))
      .filter((i) => {
        const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(i.file), i.spec));
        return !PRODUCT.some((p) => target === p || target.startsWith(`${p}/`));
      });
    expect(outside).toEqual([]);
  });

  it('loads no package that is not a production dependency', () => {
    const builtins = new Set(builtinModules);
    const missing = imports
      .filter((i) => !i.spec.startsWith('.'))
      .filter((i) => !i.spec.startsWith('node:') && !builtins.has(i.spec))
      .filter((i) => !(packageOf(i.spec) in manifest.dependencies));
    expect(missing).toEqual([]);
  });
});
