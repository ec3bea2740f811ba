/** lxkit on a terminal of its own, driven by a test (python's pty module: no shell involved). */
import { readFile } from 'node:fs/promises';
import { execa, type ResultPromise } from 'execa';
import { LXKIT_BIN, type Scratch } from './harness.js';

const PTY = 'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)';

/** Runs lxkit with `args` on a fresh pty (of `size`, else 0x0 as python makes it), piping our data through. */
export function onTerminal(s: Scratch, args: string[], size?: { rows: number; cols: number }) {
  // stty sizes the pty from inside it, then lxkit takes its place; the sizes are numbers, the rest argv.
  const sized = size ? ['sh', '-c', `stty rows ${size.rows | 0} cols ${size.cols | 0} && exec "$0" "$@"`] : [];
  const proc = execa('python3', ['-c', PTY, ...sized, process.execPath, LXKIT_BIN, ...args], { env: s.env, reject: false, stdin: 'pipe' }) as ResultPromise & {
    stdout: NodeJS.ReadableStream;
  };
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const waitFor = async (re: RegExp, ms = 15000) => {
    const end = Date.now() + ms;
    while (!re.test(out)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${re} in:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  /** Ends lxkit and its pty whatever state the test left them in (the monitor then ends the container). */
  const kill = async () => {
    try {
      process.kill(await lxkitPid(proc.pid!), 'SIGKILL');
    } catch {
      // already gone
    }
    proc.kill('SIGKILL');
    await proc;
  };
  return { proc, output: () => out, waitFor, kill, type: (text: string) => proc.stdin!.write(text) };
}

/** The lxkit process under the pty's python. */
export async function lxkitPid(pythonPid: number): Promise<number> {
  const children = await readFile(`/proc/${pythonPid}/task/${pythonPid}/children`, 'utf8');
  return Number(children.trim().split(/\s+/)[0]);
}

