/** `lxkit create -n NAME -t TEMPLATE [-f CONFIG] [-B TYPE] [--dir DIR] [-- TEMPLATE-ARGS]` (lxc-create). */
import { InvalidArgumentError, type Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

/** LXC's storage types (lxc-create -B), of which lxkit has `dir` (and `best`, which is `dir` here) until storage plugins come. */
const STORAGE_TYPES = ['dir', 'best', 'btrfs', 'loop', 'lvm', 'overlay', 'overlayfs', 'rbd', 'zfs'];

function storageType(value: string): string {
  if (!STORAGE_TYPES.includes(value)) throw new InvalidArgumentError(`"${value}" is not a storage type; use ${STORAGE_TYPES.join(', ')}`);
  return value;
}

interface CreateFlags {
  template?: string;
  config?: string;
  bdev?: string;
  dir?: string;
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
  });
  ctx.log.info(`created container ${c.name}`);
  return 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .option('-t, --template <template>', 'template to populate the container with (e.g. busybox)')
    .option('-f, --config <file>', 'initial container config, instead of the toolkit\'s default container config')
    .option('-B, --bdev <type>', `the rootfs's storage type: dir (the default), or best (dir here); ${STORAGE_TYPES.slice(2).join(', ')} need a storage plugin`, storageType)
    .option('--dir <dir>', 'the rootfs directory, instead of <lxcpath>/<name>/rootfs')
    .argument('[template-args...]', 'arguments for the template, after --')
    .action(action(program, (ctx, args: string[]) => create(ctx, args, ctx.opts as CreateFlags)));
}
