/**
 * lxc-console: this terminal on a container's tty (1…lxc.tty.max) or its
 * console (0), through lxkit-console (native/src/console/console.c), which
 * gets the pty master from the container's monitor. Ctrl-a q leaves.
 */
import { runTerminalHelper } from '../command/helper-session.js';
import { LxkitError } from '../errors.js';
import { CN_REQUEST } from '../start/protocol.js';

export interface ConsoleOptions {
  /** 1…lxc.tty.max, or 0 for /dev/console (default 1, as lxc-console). */
  tty?: number;
  /** The escape character as a letter (Ctrl-<letter>): `a` by default. */
  escape?: string;
}

/** What consoleLog() does with the console's ring buffer (lxc.console.buffer.size), as LXC's console_log(). */
export interface ConsoleLogOptions {
  /** Return what the buffer holds, oldest first (default true). What is returned is not returned again. */
  read?: boolean;
  /** Empty the buffer, after the read (default false). */
  clear?: boolean;
  /** Return at most this many bytes, the oldest (default 0: all); the rest stays for the next read. */
  max?: number;
}

export async function openConsole(socket: string, container: string, opts: ConsoleOptions = {}): Promise<void> {
  const letter = (opts.escape ?? 'a').toLowerCase();
  if (!/^[a-z]$/.test(letter)) throw new LxkitError('LXKIT_USAGE', `-e ${opts.escape}: the escape is a letter (Ctrl-<letter>)`);
  const tty = opts.tty ?? 1;
  try {
    await runTerminalHelper('lxkit-console', { type: CN_REQUEST, ints: [tty, letter.charCodeAt(0) - 96], strs: [socket] }, `opening ${tty ? `tty ${tty}` : 'the console'} of container "${container}"`, container);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new LxkitError('LXKIT_USAGE', `container "${container}" has no ${tty ? `tty ${tty} (see lxc.tty.max)` : 'console'}`, { container, cause: err });
    if (code === 'EBUSY') throw new LxkitError('LXKIT_CONTAINER_BUSY', `the console of container "${container}" is in use by another lxkit console`, { container, cause: err });
    throw err;
  }
}
