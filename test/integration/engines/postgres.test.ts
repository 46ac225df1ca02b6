import { testDatabasesFromEnv } from '../../../devtools/databases';
import { describeEngineContract } from './contract';
import { makePostgresContext } from './postgres-context';

// The run's PostgreSQL (scram-sha-256), started by global setup; the "goes away" test starts its own.
describeEngineContract('postgres', () => makePostgresContext(testDatabasesFromEnv().postgres));
