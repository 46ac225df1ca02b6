import { createCloudSqlConnectorProvider } from '../../../shared/engines/cloud-sql';
import type { Endpoint } from '../../../shared/engines/engine';
import { createMysqlEngine, mysqlConnectionConfig } from '../../../shared/engines/mysql';
import { createPostgresEngine, postgresClientConfig } from '../../../shared/engines/postgres';
import { TransientError } from '../../../shared/errors';
import { fakeConnector, fakeMysqlConnection, fakePgClient } from './fakes';

const login = { username: 'app', password: 'pw-1234567' };
const cloudSql: Endpoint = { cloudSqlInstance: 'proj:europe-west1:db', database: 'shop' };

describe('Cloud SQL seam', () => {
  it('PostgreSQL connects through the provider stream, never host/port', async () => {
    const fake = fakeConnector();
    const config = await postgresClientConfig(
      { kind: 'cloud-sql', instance: 'proj:europe-west1:db', database: 'shop' },
      login,
      { connectTimeoutMs: 1000, statementTimeoutMs: 1000, connector: () => fake.provider },
    );
    expect(fake.instances).toEqual(['proj:europe-west1:db']);
    expect(config.stream).toBe(fake.stream);
    expect(config).not.toHaveProperty('host');
    expect(config).not.toHaveProperty('port');
    expect(config).toMatchObject({ user: 'app', database: 'shop', ssl: false });
  });

  it('MySQL connects through the provider stream, never host/port', async () => {
    const fake = fakeConnector();
    const config = await mysqlConnectionConfig(
      { kind: 'cloud-sql', instance: 'proj:europe-west1:db', database: 'shop' },
      login,
      { connectTimeoutMs: 1000, connector: () => fake.provider },
    );
    expect(config.stream).toBe(fake.stream);
    expect(config).not.toHaveProperty('host');
    expect(config).not.toHaveProperty('port');
    expect(config).toMatchObject({ user: 'app', database: 'shop', multipleStatements: false });
  });

  it('engines hand the driver the provider options for a cloudSqlInstance endpoint', async () => {
    const fake = fakeConnector();
    const pg = fakePgClient({});
    const seen: Record<string, unknown>[] = [];
    const engine = createPostgresEngine({
      connector: fake.provider,
      createClient: (config) => {
        seen.push(config as Record<string, unknown>);
        return pg.client;
      },
    });
    await expect(engine.tryLogin(cloudSql, login)).resolves.toEqual({ ok: true });
    expect(seen[0]?.stream).toBe(fake.stream);
    expect(seen[0]?.host).toBeUndefined();
    expect(seen[0]?.port).toBeUndefined();

    const my = fakeMysqlConnection({});
    const mysqlSeen: Record<string, unknown>[] = [];
    const mysqlEngine = createMysqlEngine({
      dialect: 'mysql',
      connector: fake.provider,
      createConnection: (config) => {
        mysqlSeen.push(config as Record<string, unknown>);
        return my.open();
      },
    });
    await expect(mysqlEngine.tryLogin(cloudSql, login)).resolves.toEqual({ ok: true });
    expect(mysqlSeen[0]?.stream).toBe(fake.stream);
    expect(mysqlSeen[0]?.host).toBeUndefined();
    expect(fake.instances).toEqual(['proj:europe-west1:db', 'proj:europe-west1:db']);
  });

  it('a host/port endpoint never touches the provider', async () => {
    const fake = fakeConnector();
    const config = await postgresClientConfig(
      { kind: 'tcp', host: 'db', port: 6432, database: 'shop', ssl: true },
      login,
      { connectTimeoutMs: 1000, statementTimeoutMs: 1000, connector: () => fake.provider },
    );
    expect(fake.instances).toEqual([]);
    expect(config).toMatchObject({ host: 'db', port: 6432, ssl: { rejectUnauthorized: true } });
    expect(config.stream).toBeUndefined();
  });

  it('a connector that hangs is bounded by the connect timeout', async () => {
    const engine = createPostgresEngine({
      connectTimeoutMs: 50,
      connector: { optionsFor: () => new Promise(() => {}) },
    });
    await expect(engine.tryLogin(cloudSql, login)).rejects.toBeInstanceOf(TransientError);
  });

  it('the production provider creates the connector lazily, once, with the ip type', async () => {
    const calls: unknown[] = [];
    let created = 0;
    const stream = () => {
      throw new Error('not dialled in this test');
    };
    const provider = createCloudSqlConnectorProvider({
      ipType: 'PRIVATE',
      createConnector: () => {
        created++;
        return {
          getOptions: async (opts) => {
            calls.push(opts);
            return { stream } as never;
          },
        };
      },
    });
    expect(created).toBe(0);
    const options = await provider.optionsFor('proj:region:db');
    await provider.optionsFor('proj:region:other');
    expect(created).toBe(1);
    expect(options.stream).toBe(stream);
    expect(calls).toEqual([
      { instanceConnectionName: 'proj:region:db', ipType: 'PRIVATE' },
      { instanceConnectionName: 'proj:region:other', ipType: 'PRIVATE' },
    ]);
  });
});
