import { type DatabasePayload, sameServer } from '../../../shared/secrets/payload';

const at = (host: string, port?: number): DatabasePayload => ({
  host,
  ...(port === undefined ? {} : { port }),
  database: 'app',
  username: 'app',
  password: 'Not-A-Password-1',
});
const sql = (instance: string): DatabasePayload => ({
  cloudSqlInstance: instance,
  database: 'app',
  username: 'app',
  password: 'Not-A-Password-1',
});

describe('sameServer: the admin secret and the managed secret name one server', () => {
  it.each([
    ['postgres', at('db.example.com'), at('db.example.com', 5432)],
    ['postgres', at('db.example.com', 5432), at('db.example.com')],
    ['mysql', at('db.example.com'), at('db.example.com', 3306)],
    ['mariadb', at('db.example.com', 3306), at('db.example.com')],
    ['postgres', at('DB.Example.COM', 5432), at('db.example.com', 5432)],
    ['postgres', at('db.example.com.', 5432), at('db.example.com', 5432)],
    ['mysql', at('Db.Example.com.'), at('db.example.com', 3306)],
    ['postgres', sql('p:r:i'), sql('p:r:i')],
  ] as const)('%s: %j is %j', (engine, a, b) => {
    expect(sameServer(a, b, engine)).toBe(true);
    expect(sameServer(b, a, engine)).toBe(true);
  });

  it.each([
    ['a missing port is the engine default, not any port', 'postgres', at('db'), at('db', 5433)],
    ['the default port is the engine’s own', 'mysql', at('db'), at('db', 5432)],
    ['another host', 'postgres', at('db1.example.com'), at('db2.example.com')],
    ['only one trailing dot is ignored', 'postgres', at('db.example.com..'), at('db.example.com')],
    ['a host is not a Cloud SQL instance', 'postgres', at('p:r:i'), sql('p:r:i')],
    ['another Cloud SQL instance', 'postgres', sql('p:r:i'), sql('p:r:j')],
    ['a suffix is not the host', 'postgres', at('db.example.com.evil'), at('db.example.com')],
  ] as const)('%s', (_why, engine, a, b) => {
    expect(sameServer(a, b, engine)).toBe(false);
    expect(sameServer(b, a, engine)).toBe(false);
  });
});
