import type { ConnectorOptionsProvider } from './cloud-sql';
import { createCloudSqlConnectorProvider } from './cloud-sql';
import type { DatabaseEngine, EngineName } from './engine';

export interface EngineDeps {
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
  /** Shared by every engine, so one Cloud SQL connector serves all instances. */
  connector?: ConnectorOptionsProvider;
}

const cache = new Map<string, DatabaseEngine>();
// Created on first use, like the connector inside it.
let defaultConnector: ConnectorOptionsProvider | undefined;

function build(name: EngineName, deps: EngineDeps): DatabaseEngine {
  switch (name) {
    // Each driver is required when its engine is first built: a PostgreSQL rotation never loads
    // mysql2, and a cold start loads neither.
    case 'postgres':
      return (require('./postgres') as typeof import('./postgres')).createPostgresEngine(deps);
    case 'mysql':
    case 'mariadb':
      return (require('./mysql') as typeof import('./mysql')).createMysqlEngine({
        ...deps,
        dialect: name,
      });
  }
}

/**
 * The engine for a name. Without deps the engine is built once and cached (its Cloud SQL connector
 * keeps certificates warm across invocations of a function instance); with deps, a fresh engine.
 */
export function engineFor(name: EngineName, deps?: EngineDeps): DatabaseEngine {
  if (deps) return build(name, deps);
  let engine = cache.get(name);
  if (!engine) {
    defaultConnector ??= createCloudSqlConnectorProvider();
    engine = build(name, { connector: defaultConnector });
    cache.set(name, engine);
  }
  return engine;
}
