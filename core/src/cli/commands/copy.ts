/** `lxkit copy -n NAME -N NEWNAME [-p NEWPATH] [-B TYPE] [-s] [-K] [-M] [-L SIZE] [-a] [-- HOOK-ARGS]` (lxc-copy). */
import type { Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';
import { storageSize, storageType } from './storage-options.js';

interface CopyFlags {
  newname?: string;
  newpath?: string;
  backingstorage?: string;
  snapshot?: boolean;
  keepname?: boolean;
  keepmac?: boolean;
  fssize?: number;
  allowrunning?: boolean;
}

async function copy(ctx: CliContext, args: string[], opts: CopyFlags): Promise<number> {
  const { Container, LxkitError } = await import('../../index.js');
  if (!opts.newname && !opts.newpath) throw new LxkitError('LXKIT_USAGE', 'copy needs a new name (-N) or a new lxcpath (-p)');
  const c = new Container(ctx.opts.name!, { runtime: await ctx.runtime(), lxcpath: await ctx.lxcpath(), log: ctx.log });
  const copy = await c.clone(opts.newname ?? c.name, {
    ...(opts.newpath ? { lxcpath: opts.newpath } : {}),
    ...(opts.backingstorage ? { storage: opts.backingstorage } : {}),
    snapshot: opts.snapshot === true,
    keepName: opts.keepname === true,
    keepMac: opts.keepmac === true,
    allowRunning: opts.allowrunning === true,
    ...(opts.fssize ? { storageOptions: { fssize: opts.fssize } } : {}),
    hookArgs: args,
  });
  ctx.log.info(`${opts.snapshot ? 'snapshot ' : ''}copy of container ${c.name} made: ${copy.name} in ${await copy.lxcpath()}`);
  return 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .option('-N, --newname <name>', 'name of the copy (the same name with -p)')
    .option('-p, --newpath <path>', 'lxcpath of the copy (the same lxcpath by default)')
    .option('-B, --backingstorage <type>', "the copy's storage type (the original's by default; overlay for a snapshot of a dir container)", storageType)
    .option('-s, --snapshot', 'a copy-on-write snapshot instead of a full copy (btrfs, zfs, lvm, or an overlay on a dir rootfs)')
    .option('-K, --keepname', 'keep the host name (lxc.uts.name)')
    .option('-M, --keepmac', "keep the network devices' hwaddrs")
    .option('-L, --fssize <size>', 'size of new block storage (loop, lvm), as 1G or 500M', storageSize)
    .option('-a, --allowrunning', 'copy a running container (its files as they are)')
    .argument('[hook-args...]', 'arguments for lxc.hook.clone scripts, after --')
    .action(action(program, (ctx, args: string[]) => copy(ctx, args, ctx.opts as CopyFlags)));
}
