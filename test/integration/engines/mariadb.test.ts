import { testDatabasesFromEnv } from '../../../devtools/databases';
import { describeEngineContract } from './contract';
import { makeMariadbContext } from './mariadb-context';

// The run's MariaDB, started by global setup; the "goes away" test starts its own.
describeEngineContract('mariadb', () => makeMariadbContext(testDatabasesFromEnv().mariadb));
