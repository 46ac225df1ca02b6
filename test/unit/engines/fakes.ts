import { Duplex } from 'node:stream';
import type { ConnectorOptionsProvider } from '../../../shared/engines/cloud-sql';
import type { MysqlConnectionLike } from '../../../shared/engines/mysql';
import type { PgClientLike } from '../../../shared/engines/postgres';

/** A driver-shaped error, as pg and mysql2 raise them. */
export const driverError = (message: string, fields: Record<string, unknown>) =>
  Object.assign(new Error(message), fields);

type Answer = unknown[] | Error;

/** A pg client that records what it is asked and answers from a script (by SQL prefix). */
export function fakePgClient(options: { connectError?: Error; answers?: Record<string, Answer> }) {
  const queries: string[] = [];
  const client: PgClientLike = {
    connect: async () => {
      if (options.connectError) throw options.connectError;
    },
    query: async (q) => {
      const text = typeof q === 'string' ? q : q.text;
      queries.push(text);
      const key = Object.keys(options.answers ?? {}).find((k) => text.startsWith(k));
      const answer = key === undefined ? [] : options.answers?.[key];
      if (answer instanceof Error) throw answer;
      return { rows: (answer ?? []) as never[] };
    },
    end: async () => {},
    on: () => client,
  };
  return { client, queries };
}

/** A mysql2 connection double in the same style; `values` are recorded with their SQL. */
export function fakeMysqlConnection(options: {
  connectError?: Error;
  answers?: Record<string, Answer>;
}) {
  const queries: { sql: string; values?: unknown[] }[] = [];
  const conn: MysqlConnectionLike = {
    query: async ({ sql, values }) => {
      queries.push({ sql, ...(values ? { values } : {}) });
      const key = Object.keys(options.answers ?? {}).find((k) => sql.startsWith(k));
      const answer = key === undefined ? [] : options.answers?.[key];
      if (answer instanceof Error) throw answer;
      return [answer ?? [], []];
    },
    end: async () => {},
    on: () => conn,
  };
  const open = async () => {
    if (options.connectError) throw options.connectError;
    return conn;
  };
  return { open, queries };
}

/** A Cloud SQL provider that hands out a recognisable stream and counts its calls. */
export function fakeConnector() {
  const instances: string[] = [];
  const stream = () =>
    new Duplex({
      read() {},
      write(_c, _e, cb) {
        cb();
      },
    });
  const provider: ConnectorOptionsProvider = {
    optionsFor: async (instance) => {
      instances.push(instance);
      return { stream };
    },
  };
  return { provider, instances, stream };
}
