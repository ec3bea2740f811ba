/** `lxkit create -n NAME -t TEMPLATE [-f CONFIG] [-B TYPE] [--dir DIR] [-- TEMPLATE-ARGS]` (lxc-create). */
import type { Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';
import { storageSize, storageType } from './storage-options.js';

interface CreateFlags {
  template?: string;
  config?: string;
  bdev?: string;
  dir?: string;
  fssize?: number;
  fstype?: string;
  zfsroot?: string;
  vgname?: string;
  lvname?: string;
  thinpool?: string;
}

async function create(ctx: CliContext, args: string[], opts: CreateFlags): Promise<number> {
  const { Container } = await import('../../index.js');
  const c = new Container(ctx.opts.name!, { runtime: await ctx.runtime(), lxcpath: await ctx.lxcpath(), log: ctx.log });
  await c.create({
    ...(opts.template ? { template: opts.template } : {}),
    templateArgs: args,
    ...(opts.config ? { configFile: opts.config } : {}),
    ...(opts.bdev ? { storage: opts.bdev } : {}),
    ...(opts.dir !== undefined ? { rootfsDir: opts.dir } : {}),
    // As lxc-create, which shows what its template prints.
    onMessage: (text) => void (ctx.opts.quiet ? undefined : ctx.out(text.endsWith('\n') ? text : `${text}\n`)),
    // As lxc-create, whose template reads its terminal: questions only where someone can answer them.
    ...(process.stdin.isTTY ? { onQuestion: (q: string) => askTerminal(q) } : {}),
    storageOptions: {
      ...(opts.fssize !== undefined ? { fssize: opts.fssize } : {}),
      ...(opts.fstype !== undefined ? { fstype: opts.fstype } : {}),
      ...(opts.zfsroot !== undefined ? { zfsroot: opts.zfsroot } : {}),
      ...(opts.vgname !== undefined ? { vgname: opts.vgname } : {}),
      ...(opts.lvname !== undefined ? { lvname: opts.lvname } : {}),
      ...(opts.thinpool !== undefined ? { thinpool: opts.thinpool } : {}),
    },
  });
  ctx.log.info(`created container ${c.name}`);
  return 0;
}

/** One line read from the terminal after `question`; undefined at its end (Ctrl-D). */
async function askTerminal(question: string): Promise<string | undefined> {
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: false });
  process.stdout.write(question);
  try {
    return await new Promise<string | undefined>((resolve) => {
      rl.once('line', (line) => resolve(line.trim()));
      rl.once('close', () => resolve(undefined));
    });
  } finally {
    rl.close();
  }
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .option('-t, --template <template>', 'template to populate the container with (e.g. busybox)')
    .option('-f, --config <file>', 'initial container config, instead of the toolkit\'s default container config')
    .option('-B, --bdev <type>', "the rootfs's storage type: dir (the default), btrfs, overlay, loop, zfs, lvm (each from its plugin), or best (btrfs, zfs or lvm where possible, else dir)", storageType)
    .option('--dir <dir>', 'the rootfs directory, instead of <lxcpath>/<name>/rootfs')
    .option('--fssize <size>', 'size of new block storage (loop, lvm), as 1G or 500M; 1G by default', storageSize)
    .option('--fstype <type>', 'filesystem made on new block storage (loop, lvm); ext4 by default')
    .option('--zfsroot <dataset>', 'the dataset new ZFS containers go below (lxc.bdev.zfs.root by default)')
    .option('--vgname <vg>', 'the LVM volume group (lxc.bdev.lvm.vg by default)')
    .option('--lvname <lv>', "the logical volume's name (the container's by default)")
    .option('--thinpool <pool>', 'the LVM thin pool (lxc.bdev.lvm.thin_pool by default)')
    .argument('[template-args...]', 'arguments for the template, after --')
    .action(action(program, (ctx, args: string[]) => create(ctx, args, ctx.opts as CreateFlags)));
}
