/**
 * `lxkit checkpoint -n NAME -D DIR [-s] [-p] [--predump-dir DIR] [-v] [-A SCRIPT]`
 * and `lxkit checkpoint -n NAME -r -D DIR [-d|-F] [-v] [-A SCRIPT]`
 * (lxc-checkpoint): write a running container's processes to DIR, or bring
 * them back from it, through the enabled checkpointer (the criu plugin).
 * `--page-server`, `--preserves-inodes`, `--ghost-limit` and
 * `--no-skip-in-flight` are LXC's migrate API options, which lxc-checkpoint
 * does not offer.
 */
import type { Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

interface CheckpointFlags {
  checkpointDir: string;
  restore?: boolean;
  stop?: boolean;
  preDump?: boolean;
  predumpDir?: string;
  verbose?: boolean;
  actionScript?: string;
  daemon?: boolean;
  foreground?: boolean;
  pageServer?: string;
  preservesInodes?: boolean;
  ghostLimit?: string;
  skipInFlight: boolean;
}

function bytesOf(value: string, LxkitError: typeof import('../../errors.js').LxkitError): number {
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new LxkitError('LXKIT_USAGE', `--ghost-limit: "${value}" is not a number of bytes`);
  return Number(value);
}

/** `ADDRESS:PORT`, or `[IPV6]:PORT`: the port is what follows the last colon. */
function pageServerOf(value: string, LxkitError: typeof import('../../errors.js').LxkitError): { address: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:([0-9]+)$/.exec(value);
  if (!m || !m[1]) throw new LxkitError('LXKIT_USAGE', `--page-server: "${value}" is not ADDRESS:PORT`);
  return { address: m[1], port: Number(m[2]) };
}

async function checkpoint(ctx: CliContext, opts: CheckpointFlags): Promise<number> {
  const { Container, LxkitError } = await import('../../index.js');
  const only = (flag: string, given: unknown, when: string) => {
    if (given) throw new LxkitError('LXKIT_USAGE', `${flag} is for ${when}`);
  };
  if (opts.restore) {
    only('-s', opts.stop, 'a checkpoint (it stops the container once written)');
    only('-p', opts.preDump, 'a checkpoint');
    only('--predump-dir', opts.predumpDir, 'a checkpoint');
    only('--page-server', opts.pageServer, 'a checkpoint');
    only('--preserves-inodes', opts.preservesInodes, 'a checkpoint');
    only('--ghost-limit', opts.ghostLimit, 'a checkpoint');
    only('--no-skip-in-flight', !opts.skipInFlight, 'a checkpoint');
    if (opts.daemon && opts.foreground) throw new LxkitError('LXKIT_USAGE', 'give one of -d and -F');
  } else {
    only('-d', opts.daemon, 'a restore (-r)');
    only('-F', opts.foreground, 'a restore (-r)');
  }
  const c = new Container(ctx.opts.name!, { runtime: await ctx.runtime(), lxcpath: await ctx.lxcpath(), log: ctx.log });
  const common = {
    directory: opts.checkpointDir,
    ...(opts.verbose ? { verbose: true } : {}),
    ...(opts.actionScript !== undefined ? { actionScript: opts.actionScript } : {}),
  };
  if (!opts.restore) {
    await c.checkpoint({
      ...common,
      ...(opts.stop ? { stop: true } : {}),
      ...(opts.preDump ? { preDump: true } : {}),
      ...(opts.predumpDir !== undefined ? { previous: opts.predumpDir } : {}),
      ...(opts.pageServer !== undefined ? { pageServer: pageServerOf(opts.pageServer, LxkitError) } : {}),
      ...(opts.preservesInodes ? { preservesInodes: true } : {}),
      ...(opts.ghostLimit !== undefined ? { ghostLimit: bytesOf(opts.ghostLimit, LxkitError) } : {}),
      ...(!opts.skipInFlight ? { skipInFlight: false } : {}),
    });
    return 0;
  }
  if (opts.foreground) {
    // As lxkit start -F: a signal to lxkit halts the container.
    const { exit } = await c.restore({ ...common, foreground: true, forwardSignals: true });
    // A halt or poweroff from inside (reboot(2) kills the init with SIGINT) is a normal stop, as for start -F.
    return exit.signal === 2 ? 0 : exit.code;
  }
  await c.restore(common);
  return 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .requiredOption('-D, --checkpoint-dir <dir>', "the checkpoint's directory")
    .option('-r, --restore', 'restore the container from the checkpoint instead')
    .option('-s, --stop', 'stop the container once it is checkpointed')
    .option('-p, --pre-dump', "only pre-dump the container's memory (it goes on running)")
    .option('--predump-dir <dir>', 'the directory of an earlier pre-dump this checkpoint builds on')
    .option('-v, --verbose', "the checkpointer's log says everything it does")
    .option('-A, --action-script <script>', 'a script the checkpointer runs at each of its stages')
    .option('--page-server <address:port>', "send the memory pages to a criu page server there (criu page-server on the receiving host)")
    .option('--preserves-inodes', 'the restore will be onto the same filesystem: find inotify watches by inode')
    .option('--ghost-limit <bytes>', 'at most this many bytes of deleted files still held go into the checkpoint')
    .option('--no-skip-in-flight', 'do not dump while connections are half-open')
    .option('-d, --daemon', 'restore in the background (the default)')
    .option('-F, --foreground', 'restore in the foreground: stay until the container stops, exiting with its status')
    .action(action(program, (ctx) => checkpoint(ctx, ctx.opts as unknown as CheckpointFlags)));
}
