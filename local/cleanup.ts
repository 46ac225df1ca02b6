import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DATABASE_URL_VARIABLE, startLocalDatabase } from './database';
import { dropDemoObjects } from './demo-database';

/** The files the local stack writes into its state folder (and nothing else there is removed). */
const STATE_FILES = ['secret-manager.json', '.gitignore'];

/**
 * `npm start -- --cleanup`: remove what the demo left behind. On the user's own server
 * (ROTATOR_LOCAL_DATABASE_URL) the demo's logins, owner role and table or database; in the state
 * folder the emulator's state (it holds the demo's passwords) and the folder when empty. The
 * throwaway PostgreSQL needs nothing: it is deleted when the stack stops. Returns what to print.
 */
export async function cleanupDemo(options: {
  stateDir: string;
  databaseUrl?: string;
}): Promise<string[]> {
  const lines: string[] = [];
  if (options.databaseUrl) {
    const db = await startLocalDatabase({ url: options.databaseUrl });
    try {
      const dropped = await dropDemoObjects(db);
      lines.push(
        `${db.engine} ${db.host}:${db.port}: ${dropped.length > 0 ? `dropped ${dropped.join(', ')}` : 'nothing of the demo left'}`,
      );
    } finally {
      await db.stop();
    }
  } else {
    lines.push(
      `no ${DATABASE_URL_VARIABLE}: the throwaway PostgreSQL is removed whenever the stack stops; nothing to drop`,
    );
  }
  const removed = STATE_FILES.filter((f) => existsSync(path.join(options.stateDir, f)));
  for (const f of removed) rmSync(path.join(options.stateDir, f), { force: true });
  if (existsSync(options.stateDir) && readdirSync(options.stateDir).length === 0) {
    rmdirSync(options.stateDir);
  }
  lines.push(
    removed.length > 0
      ? `${options.stateDir}: removed ${removed.join(', ')} (the demo secrets and their passwords)`
      : `${options.stateDir}: no state to remove`,
  );
  return lines;
}
