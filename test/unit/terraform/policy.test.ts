import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import {
  checkCustomRolesMatchCode,
  checkEnvironmentsRoot,
  checkFunctionRolesMatchReach,
  checkManagedSecrets,
  checkNoKeysOrSecretValues,
  checkNoProjectLevelSecretManagerRole,
  checkOneServiceAccountPerFunction,
  checkPublisherBindings,
  checkSecretManagerAuditConfig,
  checkSecretReaders,
  checkTriggersRetryAndDeadLetter,
  deployedEntryPoints,
  operatorPermissions,
} from './policy-checks';
import { type EntryPoint, reachableFrom, STORE_METHOD_PERMISSIONS } from './reachable-calls';
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

/**
 * The CLI commands (every exported `run…` of cli/commands/), and who runs them. terraform's
 * operator_members must be able to run the OPERATOR ones with what the module grants them; the
 * PRIVILEGED ones read values or write what operators may not, and are run as someone who may
 * (docs/operations.md, "Permissions"). A new command must be put in one of the two lists.
 */
const OPERATOR_COMMANDS = [
  'runHistory',
  'runPause',
  'runResume',
  'runRetireDryRun',
  'runRotate',
  'runStatus',
];
const PRIVILEGED_COMMANDS: Record<string, string> = {
  runCheck: 'logs in: reads the managed and the admin credential',
  runAdopt:
    "reads and adds a version, updates an unmanaged secret, writes an admin secret's binding",
  runRollback: 'logs in with previous and the admin credential, adds a version',
};

function cliCommands(): Record<string, EntryPoint[]> {
  const dir = path.join(ROOT, 'cli/commands');
  const out: Record<string, EntryPoint[]> = {};
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(path.join(dir, name), 'utf8');
    for (const m of text.matchAll(/^export (?:async )?function (run[A-Z]\w*)/gm)) {
      out[m[1] as string] = [{ file: `cli/commands/${name}`, factory: m[1] as string }];
    }
  }
  return out;
}

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
  let cliReach: Record<string, string[]>;

  beforeAll(async () => {
    tree = await loadTerraform(TERRAFORM);
    calls = findSecretManagerCalls(ROOT, ['shared', 'functions', 'cli']);
    // The TypeScript checker over the whole product, once: tens of seconds on a busy machine.
    const commands = cliCommands();
    const all = Object.fromEntries(
      Object.entries(
        reachableFrom(ROOT, {
          ...Object.fromEntries(Object.entries(FACTORIES).map(([k, e]) => [k, [e, WIRING]])),
          ...commands,
        }),
      ).map(([key, methods]) => [
        key,
        methods.map((m) => STORE_METHOD_PERMISSIONS[m] ?? `unmapped:${m}`).sort(),
      ]),
    );
    reach = Object.fromEntries(Object.keys(FACTORIES).map((k) => [k, all[k] ?? []]));
    cliReach = Object.fromEntries(Object.keys(commands).map((k) => [k, all[k] ?? []]));
  }, 180_000);

  it('parses the module, the environments root and the examples', () => {
    const dirs = new Set(tree.files.map((f) => path.dirname(f)));
    expect([...dirs].sort()).toEqual([
      'environments',
      'examples/minimal',
      'examples/with-databricks-consumers',
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

  it('lets consumers read the value of a managed secret they are listed as readers of, nothing else', () => {
    expect(
      tree.resources.filter(
        (r) => r.type === 'google_secret_manager_secret_iam_member' && /reader/.test(r.name),
      ),
    ).toHaveLength(1);
    expect(checkSecretReaders(tree)).toEqual([]);
  });

  it("lets operator_members run every operator command with the module's grants, and only those", () => {
    const commands = Object.keys(cliReach).sort();
    // Every command is put in one list (a new command needs a decision), and none in both.
    expect(
      commands.filter((c) => !OPERATOR_COMMANDS.includes(c) && !(c in PRIVILEGED_COMMANDS)),
    ).toEqual([]);
    expect(OPERATOR_COMMANDS.filter((c) => c in PRIVILEGED_COMMANDS)).toEqual([]);
    expect(OPERATOR_COMMANDS.filter((c) => !commands.includes(c))).toEqual([]);
    // The scan sees the commands' calls (pause writes the Secret).
    expect(cliReach.runPause).toContain('secretmanager.secrets.update');
    const granted = operatorPermissions(tree);
    const missing = OPERATOR_COMMANDS.flatMap((c) =>
      (cliReach[c] ?? []).filter((p) => !granted.includes(p)).map((p) => `${c}: ${p}`),
    );
    expect(missing).toEqual([]);
    // Operators never read a value, add a version or change a version's state.
    expect(granted.filter((p) => /versions\.(access|add|enable|disable|destroy)$/.test(p))).toEqual(
      [],
    );
    // What makes the privileged ones privileged: each reaches a value or a write operators lack.
    for (const c of Object.keys(PRIVILEGED_COMMANDS).filter((k) => commands.includes(k))) {
      expect({ c, beyond: (cliReach[c] ?? []).some((p) => !granted.includes(p)) }).toEqual({
        c,
        beyond: true,
      });
    }
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

  it('has one root for every environment, using the module, with a partial GCS backend', () => {
    expect(checkEnvironmentsRoot(tree, 'environments')).toEqual([]);
  });
});
