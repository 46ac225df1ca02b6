import { invalidArgument } from './errors';

/**
 * The list `filter` language of Secret Manager (secret-manager/docs/filtering, an AIP-160
 * subset): `name:mysecret`, `labels.env=prod`, `labels.rotator:*`, `state:ENABLED`,
 * `state:(ENABLED OR DISABLED)`, `create_time<2021-01-01T06:00:00Z`, `NOT x`, `-x`, `a AND b`,
 * `a b` (AND), `a OR b` (binds tighter than AND, as AIP-160 says), parentheses, `*` wildcards in
 * values. Hand-written because no maintained npm package implements AIP-160 evaluation; it is a
 * small recursive-descent parser over the filterable view of a resource.
 *
 * The view is a plain object with snake_case keys; timestamps are `Date`s, messages are objects,
 * map fields are objects made with `mapField` and repeated fields arrays; an unset field is
 * `undefined`. Unknown top-level fields are refused, so a typo fails loudly.
 */
export type FilterView = Record<string, unknown>;
export type Predicate = (view: FilterView) => boolean;

const MAP = Symbol('map field');

/**
 * Marks a map field of a view. `field:*` tests presence: a message that is set is present even
 * when empty (`replication.automatic:*`, the filtering page's way to find secrets with automatic
 * replication, where `automatic` is usually `{}`), while an empty map has nothing to be present.
 */
export function mapField(entries: Record<string, string>): Record<string, string> {
  return Object.defineProperty({ ...entries }, MAP, { value: true, enumerable: false });
}

type Node =
  | { kind: 'and' | 'or'; items: Node[] }
  | { kind: 'not'; item: Node }
  | { kind: 'cmp'; path: string[]; op: Op; values: string[] }
  | { kind: 'text'; value: string };

const OPS = ['<=', '>=', '!=', '=', '<', '>', ':'] as const;
type Op = (typeof OPS)[number];

export function compileFilter(filter: string | undefined, fields: readonly string[]): Predicate {
  const text = (filter ?? '').trim();
  if (!text) return () => true;
  const node = new Parser(text, fields).parse();
  return (view) => evaluate(node, view);
}

const bad = (filter: string, why: string) => invalidArgument(`Invalid filter [${filter}]: ${why}.`);

class Parser {
  private pos = 0;

  constructor(
    private readonly src: string,
    private readonly fields: readonly string[],
  ) {}

  parse(): Node {
    const node = this.andExpr();
    this.skipSpace();
    if (this.pos < this.src.length) throw bad(this.src, `unexpected "${this.src.slice(this.pos)}"`);
    return node;
  }

  private andExpr(): Node {
    const items = [this.orExpr()];
    for (;;) {
      this.skipSpace();
      if (this.pos >= this.src.length || this.peek() === ')') break;
      this.keyword('AND');
      items.push(this.orExpr());
    }
    return items.length === 1 ? (items[0] as Node) : { kind: 'and', items };
  }

  private orExpr(): Node {
    const items = [this.unary()];
    while (this.keyword('OR')) items.push(this.unary());
    return items.length === 1 ? (items[0] as Node) : { kind: 'or', items };
  }

  private unary(): Node {
    this.skipSpace();
    if (this.keyword('NOT')) return { kind: 'not', item: this.unary() };
    if (this.peek() === '-') {
      this.pos++;
      return { kind: 'not', item: this.unary() };
    }
    if (this.peek() === '(') {
      this.pos++;
      const inner = this.andExpr();
      this.expect(')');
      return inner;
    }
    return this.restriction();
  }

  private restriction(): Node {
    this.skipSpace();
    const start = this.pos;
    const field = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(this.src.slice(this.pos))?.[0];
    if (field) {
      this.pos += field.length;
      this.skipSpace();
      const op = OPS.find((o) => this.src.startsWith(o, this.pos));
      if (op) {
        this.pos += op.length;
        const path = field.split('.');
        if (!this.fields.includes(path[0] ?? '')) throw bad(this.src, `unknown field "${path[0]}"`);
        return { kind: 'cmp', path, op, values: this.values() };
      }
    }
    // A bare value: matched against the resource name, as the console's free-text filter does.
    this.pos = start;
    return { kind: 'text', value: this.value() };
  }

  private values(): string[] {
    this.skipSpace();
    if (this.peek() !== '(') return [this.value()];
    this.pos++;
    const out = [this.value()];
    while (this.keyword('OR')) out.push(this.value());
    this.expect(')');
    return out;
  }

  private value(): string {
    this.skipSpace();
    if (this.peek() === '"') {
      const end = this.src.indexOf('"', this.pos + 1);
      if (end < 0) throw bad(this.src, 'unterminated string');
      const v = this.src.slice(this.pos + 1, end);
      this.pos = end + 1;
      return v;
    }
    const m = /^[^\s()"]+/.exec(this.src.slice(this.pos));
    if (!m) throw bad(this.src, `expected a value at ${this.pos}`);
    this.pos += m[0].length;
    return m[0];
  }

  private keyword(word: string): boolean {
    this.skipSpace();
    const re = new RegExp(`^${word}(?=[\\s(])`);
    if (!re.test(this.src.slice(this.pos))) return false;
    this.pos += word.length;
    return true;
  }

  private expect(ch: string): void {
    this.skipSpace();
    if (this.peek() !== ch) throw bad(this.src, `expected "${ch}"`);
    this.pos++;
  }

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  private skipSpace(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos] ?? '')) this.pos++;
  }
}

function evaluate(node: Node, view: FilterView): boolean {
  switch (node.kind) {
    case 'and':
      return node.items.every((n) => evaluate(n, view));
    case 'or':
      return node.items.some((n) => evaluate(n, view));
    case 'not':
      return !evaluate(node.item, view);
    case 'text':
      return wildcard(node.value, true).test(String(view.name ?? ''));
    case 'cmp':
      return node.values.some((v) => compare(resolve(view, node.path), node.op, v));
  }
}

/** Walks a path; through arrays it collects every element's value (`topics.name`). */
function resolve(value: unknown, path: string[]): unknown[] {
  let current: unknown[] = [value];
  for (const key of path) {
    const next: unknown[] = [];
    for (const v of current.flatMap((c) => (Array.isArray(c) ? c : [c]))) {
      if (v && typeof v === 'object' && !(v instanceof Date) && key in v) {
        next.push((v as Record<string, unknown>)[key]);
      }
    }
    current = next;
  }
  return current.flatMap((c) => (Array.isArray(c) ? c : [c])).filter((c) => c !== undefined);
}

function compare(found: unknown[], op: Op, raw: string): boolean {
  if (op === ':') {
    if (raw === '*') return found.some((f) => !isEmpty(f));
    return found.some((f) => has(f, raw));
  }
  if (op === '!=') return !found.some((f) => equals(f, raw));
  if (op === '=') return found.some((f) => equals(f, raw));
  return found.some((f) => order(f, raw, op));
}

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object' && MAP in v) return Object.keys(v).length === 0;
  return false;
}

/** `:` is "has": a substring of a string, a key of a map, an element of a list. */
function has(v: unknown, raw: string): boolean {
  if (v instanceof Date) return equals(v, raw);
  if (v && typeof v === 'object') return Object.keys(v).some((k) => wildcard(raw, false).test(k));
  return wildcard(raw, true).test(String(v));
}

function equals(v: unknown, raw: string): boolean {
  if (v instanceof Date) return v.getTime() === Date.parse(raw);
  if (v && typeof v === 'object') return false;
  return wildcard(raw, false).test(String(v));
}

function order(v: unknown, raw: string, op: Op): boolean {
  let a: number | string;
  let b: number | string;
  if (v instanceof Date) {
    a = v.getTime();
    b = Date.parse(raw);
    if (Number.isNaN(b)) throw invalidArgument(`Invalid filter: [${raw}] is not a timestamp.`);
  } else if (typeof v === 'number') {
    a = v;
    b = Number(raw);
  } else {
    a = String(v);
    b = raw;
  }
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}

function wildcard(pattern: string, substring: boolean): RegExp {
  const body = pattern
    .split('*')
    .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(substring ? body : `^${body}$`);
}
