import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import {
  checkCustomRolesMatchCode,
  checkEnvironmentRoots,
  checkFunctionRolesMatchReach,
  checkManagedSecrets,
  checkNoKeysOrSecretValues,
  checkNoProjectLevelSecretManagerRole,
  checkOneServiceAccountPerFunction,
  checkPublisherBindings,
  checkSecretManagerAuditConfig,
  checkTriggersRetryAndDeadLetter,
  deployedEntryPoints,
} from './policy-checks';
import { reachableStoreMethods, STORE_METHOD_PERMISSIONS } from './reachable-calls';
import { findSecretManagerCalls, type MethodCall } from './secret-manager-calls';
import { loadTerraform, type TfTree } from './terraform-tree';

const ROOT = path.resolve(__dirname, '../../..');
const TERRAFORM = path.join(ROOT, 'terraform');

/** Which topics each function publishes to (rotateSecret announces; the others publish nothing). */
const PUBLISHES = {
  rotate_secret: ['rotation_events'],
  refresh_consumers: [],
  retire_versions: [],
} as const;
const ENTRY_POINTS = ['refreshConsumers', 'retireVersions', 'rotateSecret'];
/** Where each function's code starts (its factory), and the wiring every function gets. */
const FACTORIES = {
  rotate_secret: { file: 'functions/rotate-secret.ts', factory: 'makeRotateSecret' },
  refresh_consumers: { file: 'functions/refresh-consumers.ts', factory: 'makeRefreshConsumers' },
  retire_versions: { file: 'functions/retire-versions.ts', factory: 'makeRetireVersions' },
};
const WIRING = { file: 'shared/runtime/deps.ts', factory: 'productionDeps' };

/** Names registered with functions-framework in functions/index.ts (cloudEvent / http). */
function registeredEntryPoints(): string[] {
  const file = path.join(ROOT, 'functions/index.ts');
  const source = ts.createSourceFile(
    file,
    readFileSync(file, 'utf8'),
    ts.ScriptTarget.ES2022,
    true,
  );
  const names: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      ['cloudEvent', 'http'].includes(node.expression.name.text) &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      names.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

describe('terraform/ follows the deployment rules', () => {
  let tree: TfTree;
  let calls: MethodCall[];
  let reach: Record<string, string[]>;

  beforeAll(async () => {
    tree = await loadTerraform(TERRAFORM);
    calls = findSecretManagerCalls(ROOT, ['shared', 'functions', 'cli']);
    // The TypeScript checker over the whole product: tens of seconds on a busy machine.
    reach = Object.fromEntries(
      Object.entries(reachableStoreMethods(ROOT, FACTORIES, WIRING)).map(([fn, methods]) => [
        fn,
        methods.map((m) => STORE_METHOD_PERMISSIONS[m] ?? `unmapped:${m}`).sort(),
      ]),
    );
  }, 180_000);

  it('parses the module and the three environment roots', () => {
    const dirs = new Set(tree.files.map((f) => path.dirname(f)));
    expect([...dirs].sort()).toEqual([
      'environments/dev',
      'environments/prod',
      'environments/staging',
      'modules/gsm-rotator',
    ]);
    expect(tree.resources.length).toBeGreaterThan(30);
  });

  it('grants no Secret Manager role on the project to any account', () => {
    expect(checkNoProjectLevelSecretManagerRole(tree)).toEqual([]);
  });

  it('triggers every function through a subscription with retries and its own dead-letter topic', () => {
    expect(checkTriggersRetryAndDeadLetter(tree)).toEqual([]);
  });

  it('gives every managed secret topics and a rotation period of at least an hour', () => {
    expect(checkManagedSecrets(tree)).toEqual([]);
  });

  it('finds the Secret Manager calls the code makes', () => {
    // If this fails, the scan lost sight of the code (moved folders?), and the role check below
    // would compare the role with nothing.
    expect(calls.map((c) => c.method)).toEqual(
      expect.arrayContaining([
        'getSecret',
        'updateSecret',
        'addSecretVersion',
        'accessSecretVersion',
      ]),
    );
  });

  it('gives the custom roles exactly the permissions the code uses', () => {
    expect(checkCustomRolesMatchCode(tree, calls)).toEqual([]);
  });

  it('follows each entry point to the Secret Manager calls it can reach', () => {
    // refreshConsumers never adds, disables or destroys; retireVersions never adds.
    expect(reach.refresh_consumers).toEqual([
      'secretmanager.secrets.get',
      'secretmanager.secrets.update',
      'secretmanager.versions.access',
      // a credential secret whose `latest` is disabled: its newest enabled version
      'secretmanager.versions.list',
    ]);
    expect(reach.retire_versions).not.toContain('secretmanager.versions.add');
    expect(reach.rotate_secret).toEqual(
      expect.arrayContaining(['secretmanager.versions.add', 'secretmanager.secrets.update']),
    );
  });

  it("gives each function its own role with exactly its entry point's calls (least privilege)", () => {
    expect(checkFunctionRolesMatchReach(tree, reach)).toEqual([]);
  });

  it('runs each function as its own service account', () => {
    expect(checkOneServiceAccountPerFunction(tree)).toEqual([]);
  });

  it('deploys the three entry points, including every one functions/index.ts registers', () => {
    const deployed = deployedEntryPoints(tree).sort();
    expect(deployed).toEqual(ENTRY_POINTS);
    expect(deployed).toEqual(expect.arrayContaining(registeredEntryPoints()));
  });

  it('turns on Data Access audit logs for Secret Manager', () => {
    expect(checkSecretManagerAuditConfig(tree)).toEqual([]);
  });

  it('lets each function publish only to the topics it publishes to', () => {
    expect(checkPublisherBindings(tree, PUBLISHES)).toEqual([]);
  });

  it('creates no key and stores no secret value', () => {
    expect(checkNoKeysOrSecretValues(tree)).toEqual([]);
  });

  it('has one root per environment, each using the module with its own state prefix', () => {
    expect(checkEnvironmentRoots(tree, 'environments')).toEqual([]);
  });
});
