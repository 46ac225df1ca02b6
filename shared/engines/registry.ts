import type { ConnectorOptionsProvider } from './cloud-sql';
import { createCloudSqlConnectorProvider } from './cloud-sql';
import type { DatabaseEngine, EngineName } from './engine';
import { createMysqlEngine } from './mysql';
import { createPostgresEngine } from './postgres';

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
    case 'postgres':
      return createPostgresEngine(deps);
    case 'mysql':
    case 'mariadb':
      return createMysqlEngine({ ...deps, dialect: name });
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
