import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * Which Secret Manager client methods the code calls, found in the TypeScript syntax tree (so
 * comments and strings never count), and the IAM permission each one needs. A method the map does
 * not know fails the policy test: a new call must come with a deliberate decision about its
 * permission, in this map and in the terraform role.
 */
export const METHOD_PERMISSIONS: Readonly<Record<string, string>> = {
  getSecret: 'secretmanager.secrets.get',
  listSecrets: 'secretmanager.secrets.list',
  listSecretsAsync: 'secretmanager.secrets.list',
  listSecretsStream: 'secretmanager.secrets.list',
  updateSecret: 'secretmanager.secrets.update',
  addSecretVersion: 'secretmanager.versions.add',
  getSecretVersion: 'secretmanager.versions.get',
  listSecretVersions: 'secretmanager.versions.list',
  listSecretVersionsAsync: 'secretmanager.versions.list',
  listSecretVersionsStream: 'secretmanager.versions.list',
  accessSecretVersion: 'secretmanager.versions.access',
  enableSecretVersion: 'secretmanager.versions.enable',
  disableSecretVersion: 'secretmanager.versions.disable',
  destroySecretVersion: 'secretmanager.versions.destroy',
};

/** The RPC methods of the installed client (gapic metadata), with their Async/Stream variants. */
export function clientMethodNames(): string[] {
  const entry = require.resolve('@google-cloud/secret-manager');
  const metadataFile = path.join(path.dirname(entry), 'v1', 'gapic_metadata.json');
  const metadata = JSON.parse(readFileSync(metadataFile, 'utf8')) as {
    services: Record<
      string,
      { clients: { grpc: { rpcs: Record<string, { methods: string[] }> } } }
    >;
  };
  const names = new Set<string>();
  for (const service of Object.values(metadata.services)) {
    for (const rpc of Object.values(service.clients.grpc.rpcs)) {
      for (const method of rpc.methods) names.add(method);
    }
  }
  return [...names].sort();
}

export interface MethodCall {
  method: string;
  file: string;
  line: number;
}

function typescriptFilesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...typescriptFilesUnder(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out.sort();
}

/** `x.method(…)` and `x['method'](…)` calls whose method is one of `methods`. */
export function findMethodCalls(
  file: string,
  text: string,
  methods: ReadonlySet<string>,
): MethodCall[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const calls: MethodCall[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      let name: string | undefined;
      if (ts.isPropertyAccessExpression(callee)) name = callee.name.text;
      else if (
        ts.isElementAccessExpression(callee) &&
        ts.isStringLiteralLike(callee.argumentExpression)
      ) {
        name = callee.argumentExpression.text;
      }
      if (name && methods.has(name)) {
        const { line } = source.getLineAndCharacterOfPosition(callee.getStart(source));
        calls.push({ method: name, file, line: line + 1 });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return calls;
}

/** Every Secret Manager client method called in the TypeScript under `dirs`. */
export function findSecretManagerCalls(root: string, dirs: readonly string[]): MethodCall[] {
  const methods = new Set(clientMethodNames());
  return dirs.flatMap((dir) =>
    typescriptFilesUnder(path.join(root, dir)).flatMap((file) =>
      findMethodCalls(path.relative(root, file), readFileSync(file, 'utf8'), methods),
    ),
  );
}
