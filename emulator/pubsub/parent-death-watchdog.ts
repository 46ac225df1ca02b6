import { spawn } from 'node:child_process';

/*
 * Why a watchdog: the emulator is Java, and Linux only tells a child that its parent died if the
 * child asks (prctl PR_SET_PDEATHSIG), which the JVM does not and Node cannot do for it. Exit
 * handlers in this process do not run on SIGKILL or on a crash of jest's parent, which is exactly
 * when orphans are left behind. So a tiny `sh` in its own process group holds the read end of a
 * pipe whose write end only this process has (libuv opens pipes close-on-exec, so no other child
 * inherits it). However this process ends, the kernel closes the write end, `read` sees EOF, and
 * the watchdog kills the emulator's whole process group: TERM, then KILL if it lingers.
 */
const SCRIPT = [
  'read -r _',
  // `-s SIG --` is the spelling both dash and bash accept for a negative (group) id.
  'kill -s TERM -- "-$1" 2>/dev/null',
  'i=0',
  'while kill -s 0 -- "-$1" 2>/dev/null && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i+1)); done',
  'kill -s KILL -- "-$1" 2>/dev/null',
].join('\n');

export interface Watchdog {
  /** Normal shutdown: the caller stops the group itself; the watchdog goes away quietly. */
  disarm(): void;
}

/** Kills process group `pgid` when this process dies, however it dies. */
export function watchProcessGroup(pgid: number): Watchdog {
  const watchdog = spawn('/bin/sh', ['-c', SCRIPT, 'gsm-pubsub-watchdog', String(pgid)], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // Neither the process nor the idle pipe may keep this process's event loop alive.
  watchdog.unref();
  watchdog.on('error', () => {});
  return {
    disarm: () => {
      watchdog.kill('SIGKILL');
      watchdog.stdin?.destroy();
    },
  };
}
