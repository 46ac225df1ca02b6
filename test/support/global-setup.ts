import { startTestDatabases } from '../../devtools/databases';
import { startPubSub } from '../../emulator/pubsub/start';

/**
 * Once per jest run (integration and e2e): a throwaway PostgreSQL with scram-sha-256, a throwaway
 * MariaDB, and Pub/Sub. Workers find them through the environment variables set here (workers are
 * spawned after global setup and inherit process.env). Nothing is skipped when a server is missing:
 * the run fails, loudly.
 */
export default async function globalSetup(): Promise<void> {
  // Both the integration and the e2e project name this file; start the stack once.
  if ((globalThis as Record<string, unknown>).__gsmRotatorStack) return;
  const started = Date.now();
  const [databases, pubsub] = await Promise.all([startTestDatabases(), startPubSub()]);
  Object.assign(process.env, databases.env, { PUBSUB_EMULATOR_HOST: pubsub.host });
  process.env.TEST_PUBSUB_KIND = pubsub.kind;
  (globalThis as Record<string, unknown>).__gsmRotatorStack = { databases, pubsub };
  process.stdout.write(
    `\n[test stack] postgres ${databases.env.TEST_PG_PORT}, mariadb ${databases.env.TEST_MARIADB_PORT}, ` +
      `pubsub ${pubsub.kind} at ${pubsub.host} (${Date.now() - started} ms)\n`,
  );
}
