import fs from 'node:fs';

/**
 * Whether a process still runs. A zombie (exited, not yet reaped by whoever inherited it) counts
 * as gone: it holds no port, memory or files.
 */
export function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Format: "pid (comm) S ...": the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
