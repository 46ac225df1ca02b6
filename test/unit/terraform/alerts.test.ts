import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { isBody, loadTerraform, stringAt, type TfTree } from './terraform-tree';

/**
 * The alert-worthy events are one list: terraform's `local.alert_events` (one alert policy each),
 * the README, docs/operations.md's "Alerts" table, and the events the code logs at ERROR. A new
 * `log.error(…, { event: 'x' })` without an alert, or a documented alert terraform lacks, fails here.
 */
const ROOT = path.resolve(__dirname, '../../..');
const MODULE = 'modules/gsm-rotator';

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return tsFiles(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

/** `event: 'x'` in the arguments of every `.error(` call of the product code. */
function eventsLoggedAtError(): string[] {
  const found = new Set<string>();
  for (const file of [
    ...tsFiles(path.join(ROOT, 'shared')),
    ...tsFiles(path.join(ROOT, 'functions')),
  ]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\.error\(/g)) {
      // The call's arguments: up to the closing `});` of the fields object.
      const call = text.slice(m.index, text.indexOf('});', m.index));
      // `event: 'x'`, or a choice between names (`event: cond ? 'x' : 'y'`): every name counts.
      const value = /\bevent: ([^,\n]+)/.exec(call)?.[1] ?? '';
      for (const name of value.matchAll(/'([a-z.-]+)'/g)) found.add(name[1] as string);
    }
  }
  return [...found].sort();
}

const backticked = (text: string) => [...text.matchAll(/`([a-z]+\.[a-z-]+)`/g)].map((m) => m[1]);

describe('alerts match the docs and the code', () => {
  let tree: TfTree;
  let terraformEvents: string[];

  beforeAll(async () => {
    tree = await loadTerraform(path.join(ROOT, 'terraform'));
    const events = tree.locals.get(MODULE)?.alert_events;
    terraformEvents = isBody(events) ? Object.keys(events).sort() : [];
  });

  it('terraform lists the events the code logs at ERROR, each with a reason', () => {
    expect(terraformEvents).toEqual(eventsLoggedAtError());
    // The two the issue found missing: a retirement that never revokes, consumers never told.
    expect(terraformEvents).toEqual(
      expect.arrayContaining(['retire.failed', 'rotation.announce-failed']),
    );
    const events = tree.locals.get(MODULE)?.alert_events as Record<string, Record<string, string>>;
    for (const e of terraformEvents) {
      expect(events[e]?.reason?.length).toBeGreaterThan(40);
      expect(['ERROR', 'WARNING', 'CRITICAL']).toContain(events[e]?.severity);
    }
  });

  it('has one alert policy per listed event, on a metric that counts exactly those', () => {
    const policy = tree.resources.find(
      (r) => r.dir === MODULE && r.type === 'google_monitoring_alert_policy' && r.name === 'events',
    );
    expect(stringAt(policy?.body, 'for_each')).toMatch(/^\$\{local\.alert_events\}$/);
    const metric = tree.resources.find(
      (r) => r.dir === MODULE && r.type === 'google_logging_metric' && r.name === 'alert_events',
    );
    expect(stringAt(metric?.body, 'filter')).toContain('keys(local.alert_events)');
  });

  it('the README lists the same events', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const paragraph = readme.slice(
      readme.indexOf('Alert-worthy'),
      readme.indexOf('\n\n', readme.indexOf('Alert-worthy')),
    );
    expect(backticked(paragraph).sort()).toEqual(terraformEvents);
  });

  it("docs/operations.md's Alerts table lists the same events", () => {
    const ops = readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8');
    const section = ops.slice(
      ops.indexOf('\n## Alerts\n'),
      ops.indexOf('\n## ', ops.indexOf('\n## Alerts\n') + 1),
    );
    const rows = section.split('\n').filter((l) => /^\| `/.test(l));
    expect(rows.map((l) => backticked(l)[0]).sort()).toEqual(terraformEvents);
  });

  it('outputs every log-based metric', () => {
    const metrics = tree.resources
      .filter((r) => r.dir === MODULE && r.type === 'google_logging_metric')
      .map((r) => r.name)
      .sort();
    expect(metrics).toEqual(
      expect.arrayContaining(['alert_events', 'overdue', 'rotation_duration', 'rotations']),
    );
    const output = tree.outputs.find((o) => o.dir === MODULE && o.name === 'log_metrics');
    const value = output?.body.value;
    expect(isBody(value)).toBe(true);
    const named = Object.values(isBody(value) ? value : {}).map(
      (v) => /^\$\{google_logging_metric\.([a-z_]+)\.name\}$/.exec(String(v))?.[1],
    );
    expect(named.sort()).toEqual(metrics);
  });

  it('has a dashboard of rotations, failures, durations and overdue secrets', () => {
    const dashboard = tree.resources.find(
      (r) => r.dir === MODULE && r.type === 'google_monitoring_dashboard',
    );
    const json = stringAt(dashboard?.body, 'dashboard_json') ?? '';
    expect(json).toContain('jsonencode(');
    const locals = JSON.stringify(tree.locals.get(MODULE)?.dashboard_metric);
    for (const metric of ['rotations', 'alert_events', 'rotation_duration', 'overdue']) {
      expect(locals).toContain(`google_logging_metric.${metric}.name`);
    }
  });
});
