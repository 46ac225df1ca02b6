/**
 * Log lines above, one progress line at the bottom (on a terminal only): the progress line is
 * cleared before each log line and drawn again after it.
 */
export interface Screen {
  line(text: string): void;
  progress(text: string): void;
  /** Removes the progress line for good (before the stack's own shutdown lines). */
  clearProgress(): void;
}

export function createScreen(out: NodeJS.WriteStream = process.stdout): Screen {
  const tty = out.isTTY === true;
  let current = '';
  const clear = () => {
    if (tty && current !== '') out.write('\r\x1b[2K');
  };
  const draw = () => {
    if (tty && current !== '') out.write(current.slice(0, Math.max(10, (out.columns ?? 100) - 1)));
  };
  return {
    line(text) {
      clear();
      out.write(`${text}\n`);
      draw();
    },
    progress(text) {
      if (!tty) return;
      clear();
      current = text;
      draw();
    },
    clearProgress() {
      clear();
      current = '';
    },
  };
}
