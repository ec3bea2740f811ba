/**
 * `lxkit top [-d SECONDS] [-b] [-s n|c|b|m|s|k] [-r] [-P LXCPATH]` (lxc-top):
 * the active containers' CPU, block I/O and memory use, refreshed every
 * -d seconds. On a terminal: a screen that q leaves and whose sort order the
 * keys n, c, b, m, s, k (the same key again: reversed) and r change. With -b:
 * CSV lines, one per container and round, for a file (every 300 s unless -d).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

interface TopOptions {
  delay?: number;
  batch?: boolean;
  sort?: string;
  reverse?: boolean;
}

function seconds(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${v}" is not a number of seconds above 0`);
  return n;
}

/** Resolves after `ms`, or at once when `stop` (a key, the end of input, a signal) fires first. */
function pause(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (stop.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      stop.removeEventListener('abort', done);
      resolve();
    }
    stop.addEventListener('abort', done);
  });
}

async function top(ctx: CliContext, opts: TopOptions): Promise<number> {
  const { LxkitError } = await import('../../errors.js');
  const { activeContainerStats } = await import('../../top/gather.js');
  const { CSV_HEADER, csvLine, isSortKey, screen, sortRows } = await import('../../top/render.js');
  const key = opts.sort ?? 'n';
  if (!isSortKey(key)) throw new LxkitError('LXKIT_USAGE', `-s ${key}: sort by n (name), c (CPU), b (block I/O), m (memory), s (memory+swap) or k (kernel memory)`);
  let sortBy = key;
  let reverse = opts.reverse === true;
  const lxcpath = await ctx.lxcpath();
  const ended = new AbortController();
  const quit = () => ended.abort();
  // As lxc-top: SIGINT (and SIGTERM here) ends it with status 0.
  process.once('SIGINT', quit);
  process.once('SIGTERM', quit);
  try {
    if (opts.batch) {
      process.stdout.write(`${CSV_HEADER}\n`);
      const ms = (opts.delay ?? 300) * 1000;
      while (!ended.signal.aborted) {
        const rows = sortRows(await activeContainerStats(lxcpath), sortBy, reverse);
        const now = Date.now();
        if (rows.length > 0) process.stdout.write(rows.map((r) => `${csvLine(r, now)}\n`).join(''));
        await pause(ms, ended.signal);
      }
      return 0;
    }
    const stdin = process.stdin;
    if (!stdin.isTTY || !process.stdout.isTTY) {
      throw new LxkitError('LXKIT_USAGE', 'lxkit top draws its screen on a terminal, and this is none: use -b for CSV lines (lxkit top -b -d 5 > FILE)');
    }
    stdin.setRawMode(true);
    let wake = new AbortController();
    const onKey = (data: Buffer) => {
      for (const ch of data.toString('latin1')) {
        if (ch === 'q' || ch === '\x03' || ch === '\x04') quit();
        else if (ch === 'r') reverse = !reverse;
        else if (isSortKey(ch)) {
          reverse = ch === sortBy ? !reverse : false;
          sortBy = ch;
        }
      }
      wake.abort();
    };
    stdin.on('data', onKey);
    stdin.once('end', quit);
    ended.signal.addEventListener('abort', () => wake.abort());
    try {
      while (!ended.signal.aborted) {
        const rows = sortRows(await activeContainerStats(lxcpath), sortBy, reverse);
        // The header and the TOTAL line take three rows; the terminal's size is read each round.
        process.stdout.write(`\x1b[H\x1b[J${screen(rows, (process.stdout.rows || 25) - 3)}`);
        wake = new AbortController();
        if (!ended.signal.aborted) await pause((opts.delay ?? 3) * 1000, wake.signal);
      }
    } finally {
      stdin.off('data', onKey);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    }
    return 0;
  } finally {
    process.off('SIGINT', quit);
    process.off('SIGTERM', quit);
  }
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd)
    .option('-d, --delay <seconds>', 'seconds between refreshes (default: 3; with -b, 300)', seconds)
    .option('-b, --batch', 'CSV lines for a file instead of a screen')
    .option('-s, --sort <key>', 'sort by n (name, the default), c (CPU), b (block I/O), m (memory), s (memory+swap), k (kernel memory)')
    .option('-r, --reverse', 'the other order (names Z to A; the numbers smallest first)')
    .action(action(program, (ctx) => top(ctx, ctx.opts as TopOptions)));
}
