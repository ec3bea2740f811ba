/**
 * `lxkit copy` (lxc-copy):
 * - `-n NAME -N NEWNAME [-p NEWPATH] [-B TYPE] [-s] [-K] [-M] [-L SIZE] [-a] [-- HOOK-ARGS]`: a copy or snapshot;
 * - `-n NAME -e [-N NEWNAME] [-D | -t] [-d | -F] [-m bind=SRC[:DEST][:ro]] [-m overlay=SRC[:DEST]] … [-- CMD…]`:
 *   an ephemeral snapshot copy, started at once (and with CMD: CMD run in it, then it stops), removed when
 *   it stops unless -D;
 * - `-n NAME -N NEWNAME -R`: a rename.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { CloneOptions } from '../../container/clone.js';
import type { Container } from '../../container/container.js';
import type { EphemeralMount } from '../../container/ephemeral.js';
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
  ephemeral?: boolean;
  keepdata?: boolean;
  foreground?: boolean;
  daemon?: boolean;
  mount?: EphemeralMount[];
  tmpfs?: boolean;
  rename?: boolean;
}

/** `-m`: lxc-copy's `bind=SRC[:DEST][:ro|rw]` and `overlay=SRC[:DEST]`, several by commas or repeated -m. */
export function parseMounts(value: string, previous: EphemeralMount[] = []): EphemeralMount[] {
  const out = [...previous];
  for (const item of value.split(',').filter(Boolean)) {
    const m = /^(bind|overlay)=(.+)$/.exec(item);
    if (!m) throw new InvalidArgumentError(`"${item}" is no mount: use bind=SRC[:DEST][:ro] or overlay=SRC[:DEST]`);
    const parts = m[2]!.split(':');
    if (m[1] === 'overlay') {
      if (parts.length > 2) throw new InvalidArgumentError(`"${item}": an overlay mount is overlay=SRC[:DEST]`);
      out.push({ kind: 'overlay', source: parts[0]!, ...(parts[1] ? { target: parts[1] } : {}) });
      continue;
    }
    const mode = parts.length === 3 ? parts[2] : parts[1] === 'ro' || parts[1] === 'rw' ? parts[1] : undefined;
    const target = parts.length === 3 || mode === undefined ? parts[1] : undefined;
    if (parts.length > 3 || (parts.length === 3 && mode !== 'ro' && mode !== 'rw')) throw new InvalidArgumentError(`"${item}": a bind mount is bind=SRC[:DEST][:ro|rw]`);
    out.push({ kind: 'bind', source: parts[0]!, ...(target ? { target } : {}), ...(mode === 'ro' ? { readOnly: true } : {}) });
  }
  return out;
}

async function copy(ctx: CliContext, args: string[], opts: CopyFlags): Promise<number> {
  const { Container, LxkitError } = await import('../../index.js');
  const c = new Container(ctx.opts.name!, { runtime: await ctx.runtime(), lxcpath: await ctx.lxcpath(), log: ctx.log });
  if (!opts.ephemeral) {
    const stray = ([['-D', opts.keepdata], ['-d', opts.daemon], ['-F', opts.foreground], ['-m', opts.mount?.length], ['-t', opts.tmpfs]] as const).find(([, set]) => set);
    if (stray) throw new LxkitError('LXKIT_USAGE', `${stray[0]} is only for an ephemeral copy (-e)`);
  }
  if (opts.rename) {
    if (!opts.newname || opts.newpath || opts.ephemeral || opts.snapshot) throw new LxkitError('LXKIT_USAGE', 'a rename (-R) takes a new name (-N) and nothing of -p, -e or -s');
    await c.rename(opts.newname);
    ctx.log.info(`container ${c.name} renamed ${opts.newname}`);
    return 0;
  }
  const common: CloneOptions = {
    ...(opts.newpath ? { lxcpath: opts.newpath } : {}),
    ...(opts.backingstorage ? { storage: opts.backingstorage } : {}),
    keepName: opts.keepname === true,
    keepMac: opts.keepmac === true,
    allowRunning: opts.allowrunning === true,
    ...(opts.fssize ? { storageOptions: { fssize: opts.fssize } } : {}),
    hookArgs: args,
  };
  if (opts.ephemeral) return ephemeral(ctx, c, args, opts, common);
  if (!opts.newname && !opts.newpath) throw new LxkitError('LXKIT_USAGE', 'copy needs a new name (-N) or a new lxcpath (-p)');
  const made = await c.clone(opts.newname ?? c.name, { ...common, snapshot: opts.snapshot === true });
  ctx.log.info(`${opts.snapshot ? 'snapshot ' : ''}copy of container ${c.name} made: ${made.name} in ${await made.lxcpath()}`);
  return 0;
}

/**
 * lxc-copy -e: the copy is started in daemon mode (the default) or in the
 * foreground (-F); with a command, it is started, the command runs in it as
 * lxc-attach would with a clean environment, and it is stopped: the exit
 * status is the command's. An ephemeral copy that fails to start is removed.
 */
async function ephemeral(ctx: CliContext, source: Container, command: string[], o: CopyFlags, clone: CloneOptions): Promise<number> {
  const { LxkitError, ephemeralCopy, ephemeralName } = await import('../../index.js');
  if (o.daemon && o.foreground) throw new LxkitError('LXKIT_USAGE', '-d and -F cannot be used together');
  if (o.foreground && command.length > 0) throw new LxkitError('LXKIT_USAGE', 'a command after -- runs in a daemon copy: leave out -F');
  const name = o.newname ?? ephemeralName(source.name);
  const e = await ephemeralCopy(source, name, { ...clone, ...(o.keepdata ? { keepData: true } : {}), ...(o.tmpfs ? { tmpfs: true } : {}), mounts: o.mount ?? [] });
  // As lxc-copy: on stdout, whatever the log level.
  process.stdout.write(`Created ${e.name} as clone of ${source.name}\n`);
  const removeIfLeft = async () => {
    if (!o.keepdata && (await e.defined())) await e.destroy({ force: true }).catch((err: unknown) => ctx.log.warn(`removing ${e.name}: ${String(err)}`));
  };
  if (o.foreground) {
    try {
      const { exit } = await e.start({ foreground: true, forwardSignals: true });
      return exit.signal === 2 ? 0 : exit.code;
    } finally {
      await removeIfLeft();
    }
  }
  try {
    await e.start({});
  } catch (err) {
    await removeIfLeft();
    throw err;
  }
  if (command.length === 0) return 0;
  try {
    return (await e.attach(command, { clearEnv: true })).code;
  } finally {
    await e.stop({});
  }
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .option('-N, --newname <name>', 'name of the copy (the same name with -p; with -e, NAME_XXXXXX by default)')
    .option('-p, --newpath <path>', 'lxcpath of the copy (the same lxcpath by default)')
    .option('-B, --backingstorage <type>', "the copy's storage type (the original's by default; overlay for a snapshot of a dir container)", storageType)
    .option('-s, --snapshot', 'a copy-on-write snapshot instead of a full copy (btrfs, zfs, lvm, or an overlay on a dir rootfs)')
    .option('-K, --keepname', 'keep the host name (lxc.uts.name)')
    .option('-M, --keepmac', "keep the network devices' hwaddrs")
    .option('-L, --fssize <size>', 'size of new block storage (loop, lvm), as 1G or 500M', storageSize)
    .option('-a, --allowrunning', 'copy a running container (its files as they are)')
    .option('-e, --ephemeral', 'an ephemeral snapshot copy, started at once and removed when it stops; a command after -- runs in it, then it stops')
    .option('-D, --keepdata', 'with -e: keep the copy when it stops')
    .option('-d, --daemon', 'with -e: start it in daemon mode (the default)')
    .option('-F, --foreground', 'with -e: start it in the foreground, attached to this terminal')
    .option('-m, --mount <mounts>', 'with -e: mount host paths in it, bind=SRC[:DEST][:ro] or overlay=SRC[:DEST] (commas or repeated -m)', parseMounts)
    .option('-t, --tmpfs', "with -e: the copy's overlay upper layer on a tmpfs (nothing it writes reaches the disk)")
    .option('-R, --rename', 'rename the container to -N (a copy, then the destroy of the original)')
    .argument('[args...]', 'after --: arguments for lxc.hook.clone scripts, and with -e the command to run')
    .action(action(program, (ctx, args: string[]) => copy(ctx, args, ctx.opts as CopyFlags)));
}
