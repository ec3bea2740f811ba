/**
 * `lxkit checkpoint -n NAME -D DIR [-s] [-p] [--predump-dir DIR] [-v] [-A SCRIPT]`
 * and `lxkit checkpoint -n NAME -r -D DIR [-d|-F] [-v] [-A SCRIPT]`
 * (lxc-checkpoint): write a running container's processes to DIR, or bring
 * them back from it, through the enabled checkpointer (the criu plugin).
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
    .option('-d, --daemon', 'restore in the background (the default)')
    .option('-F, --foreground', 'restore in the foreground: stay until the container stops, exiting with its status')
    .action(action(program, (ctx) => checkpoint(ctx, ctx.opts as unknown as CheckpointFlags)));
}
