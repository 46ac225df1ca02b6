import { invalid, notFound } from './api-error';

/** Options Databricks never returns from GET. */
const SENSITIVE = new Set(['password', 'client_secret', 'pem_private_key']);

/**
 * Unity Catalog connections. PATCH replaces the options (the stricter reading of the API: a caller
 * that sends only the password loses host and port), GET leaves sensitive options out.
 */
export class FakeConnections {
  private readonly connections = new Map<
    string,
    { type: string; options: Record<string, string> }
  >();

  add(spec: { name: string; type?: string; options: Record<string, string> }): void {
    this.connections.set(spec.name, {
      type: spec.type ?? 'POSTGRESQL',
      options: { ...spec.options },
    });
  }

  /** All options, sensitive ones included, for assertions. */
  options(name: string): Record<string, string> | undefined {
    const c = this.connections.get(name);
    return c ? { ...c.options } : undefined;
  }

  get(name: string) {
    const c = this.connections.get(name);
    if (!c) throw notFound(`Connection '${name}'`);
    const visible = Object.fromEntries(
      Object.entries(c.options).filter(([k]) => !SENSITIVE.has(k)),
    );
    return { name, connection_type: c.type, options: visible };
  }

  update(name: string, body: Record<string, unknown>) {
    const c = this.connections.get(name);
    if (!c) throw notFound(`Connection '${name}'`);
    const options = body.options;
    if (!options || typeof options !== 'object') throw invalid('options is required');
    c.options = Object.fromEntries(Object.entries(options).map(([k, v]) => [k, String(v)]));
    return this.get(name);
  }
}
