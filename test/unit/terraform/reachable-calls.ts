import path from 'node:path';
import ts from 'typescript';

/**
 * Which SecretStore methods each deployed entry point can reach, found with the TypeScript
 * checker: starting from the entry's factory (`makeRotateSecret`, ...) and the production wiring
 * every function gets (`productionDeps`), follow every identifier to the declaration it names
 * (functions, consts and their initialisers, class members) across the project's sources, and
 * record each `x.method` whose symbol is a member of the SecretStore interface. Declaration-level,
 * not module-level: importing `readConfig` from rotator.ts does not pull in the rotation steps.
 * The store's own implementation (shared/secrets/secret-store.ts) is the leaf, never followed.
 * Over-approximate where code is reached through an interface (any implementation referenced
 * counts), which is the safe side for "the role has what the code needs".
 */
export const STORE_METHOD_PERMISSIONS: Readonly<Record<string, string>> = {
  getSecret: 'secretmanager.secrets.get',
  listSecrets: 'secretmanager.secrets.list',
  updateSecret: 'secretmanager.secrets.update',
  addVersion: 'secretmanager.versions.add',
  accessVersion: 'secretmanager.versions.access',
  listVersions: 'secretmanager.versions.list',
  disableVersion: 'secretmanager.versions.disable',
  enableVersion: 'secretmanager.versions.enable',
  destroyVersion: 'secretmanager.versions.destroy',
};

const STORE_FILE = path.join('shared', 'secrets', 'secret-store.ts');

export interface EntryPoint {
  /** The file that declares the entry's factory, relative to the project root. */
  file: string;
  /** The exported factory, e.g. makeRotateSecret. */
  factory: string;
}

/** For each entry, the SecretStore methods it can reach (sorted). */
export function reachableStoreMethods(
  root: string,
  entries: Record<string, EntryPoint>,
  wiring: EntryPoint,
): Record<string, string[]> {
  return reachableFrom(
    root,
    Object.fromEntries(Object.entries(entries).map(([key, e]) => [key, [e, wiring]])),
  );
}

/**
 * For each key, the SecretStore methods reachable from all of its starts (sorted): e.g. a CLI
 * command's `run…` function alone, or a function's factory plus the production wiring. One
 * TypeScript program for every key.
 */
export function reachableFrom(
  root: string,
  starts: Record<string, EntryPoint[]>,
): Record<string, string[]> {
  const files = [
    ...new Set(Object.values(starts).flatMap((list) => list.map((e) => path.join(root, e.file)))),
  ];
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const inProject = (sf: ts.SourceFile) =>
    !sf.isDeclarationFile &&
    !sf.fileName.includes('node_modules') &&
    path.resolve(sf.fileName).startsWith(path.resolve(root));
  const isStoreFile = (sf: ts.SourceFile) => path.relative(root, sf.fileName) === STORE_FILE;

  const exported = (e: EntryPoint): ts.Declaration[] => {
    const sf = program.getSourceFile(path.join(root, e.file));
    const symbol = sf && checker.getSymbolAtLocation(sf);
    const member = symbol && checker.getExportsOfModule(symbol).find((s) => s.name === e.factory);
    if (!member?.declarations) throw new Error(`${e.file} does not export ${e.factory}`);
    return member.declarations;
  };

  const walk = (starts: ts.Declaration[]): string[] => {
    const seen = new Set<ts.Node>();
    const methods = new Set<string>();
    const queue: ts.Node[] = [...starts];
    while (queue.length > 0) {
      const node = queue.pop() as ts.Node;
      if (seen.has(node)) continue;
      seen.add(node);
      const visit = (n: ts.Node): void => {
        if (ts.isIdentifier(n)) {
          let symbol = checker.getSymbolAtLocation(n);
          if (symbol && symbol.flags & ts.SymbolFlags.Alias)
            symbol = checker.getAliasedSymbol(symbol);
          for (const decl of symbol?.declarations ?? []) {
            const sf = decl.getSourceFile();
            if (!inProject(sf)) continue;
            if (isStoreFile(sf)) {
              // SecretStore.method: a call the role must allow. Nothing else there is followed.
              const parent = decl.parent;
              if (
                ts.isInterfaceDeclaration(parent) &&
                parent.name.text === 'SecretStore' &&
                ts.isPropertyAccessExpression(n.parent) &&
                n.parent.name === n
              ) {
                methods.add(n.text);
              }
              continue;
            }
            // The whole statement: a const's initialiser, a function's body, a class member.
            queue.push(ts.isVariableDeclaration(decl) ? decl : decl);
          }
        }
        ts.forEachChild(n, visit);
      };
      visit(node);
    }
    return [...methods].sort();
  };

  return Object.fromEntries(
    Object.entries(starts).map(([key, list]) => [key, walk(list.flatMap(exported))]),
  );
}
