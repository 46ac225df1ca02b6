#!/usr/bin/env node
import { productionCliDeps } from './production-deps';
import { runCli } from './run-cli';

// The installed `gsm-rotator` bin. Exit explicitly: the gRPC channels and database pools of the
// clients would otherwise keep the process alive after the answer is printed (stdout and stderr
// are synchronous for files and pipes on Linux, so nothing printed is lost).
// `gsm-rotator status | head`: the reader went away; that is not an error of ours.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

runCli(process.argv.slice(2), productionCliDeps()).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
