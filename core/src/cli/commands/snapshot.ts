/**
 * `lxkit snapshot -n NAME [-c COMMENT-FILE]`, `-L [-C]`, `-r SNAP [-N NEWNAME]`,
 * `-d SNAP` (lxc-snapshot): take, list, restore or destroy snapshots.
 */
import type { Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

interface SnapshotFlags {
  comment?: string;
  list?: boolean;
  showcomments?: boolean;
  restore?: string;
  newname?: string;
  destroy?: string;
}

async function snapshot(ctx: CliContext, opts: SnapshotFlags): Promise<number> {
  const { Container, LxkitError } = await import('../../index.js');
  const tasks = [opts.list, opts.restore, opts.destroy].filter((t) => t !== undefined && t !== false).length;
  if (tasks > 1) throw new LxkitError('LXKIT_USAGE', 'give one of -L, -r and -d');
  if (opts.newname !== undefined && opts.restore === undefined) throw new LxkitError('LXKIT_USAGE', '-N names the container a restore (-r) makes');
  const c = new Container(ctx.opts.name!, { runtime: await ctx.runtime(), lxcpath: await ctx.lxcpath(), log: ctx.log });
  if (opts.list) {
    const snaps = await c.snapshots();
    // As lxc-snapshot -L: one line per snapshot, its comment after it with -C; "No snapshots" when there are none.
    if (snaps.length === 0) process.stdout.write('No snapshots\n');
    for (const s of snaps) {
      process.stdout.write(`${s.name} (${s.lxcpath}) ${s.timestamp}\n`);
      if (opts.showcomments && s.comment !== undefined) process.stdout.write(s.comment.endsWith('\n') ? s.comment : `${s.comment}\n`);
    }
    return 0;
  }
  if (opts.restore !== undefined) {
    await c.snapshotRestore(opts.restore, opts.newname ?? c.name);
    ctx.log.info(`snapshot ${opts.restore} of container ${c.name} restored as ${opts.newname ?? c.name}`);
    return 0;
  }
  if (opts.destroy !== undefined) {
    await c.snapshotDestroy(opts.destroy);
    ctx.log.info(`snapshot ${opts.destroy} of container ${c.name} destroyed`);
    return 0;
  }
  const name = await c.snapshot(opts.comment);
  ctx.log.info(`snapshot ${name} of container ${c.name} taken`);
  return 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .option('-c, --comment <file>', "the snapshot's comment: this file's text")
    .option('-L, --list', 'list the snapshots')
    .option('-C, --showcomments', 'with -L: show their comments')
    .option('-r, --restore <snapshot>', 'restore this snapshot (over the container, or as -N)')
    .option('-N, --newname <name>', 'with -r: the container the restore makes')
    .option('-d, --destroy <snapshot>', 'destroy this snapshot')
    .action(action(program, (ctx) => snapshot(ctx, ctx.opts as SnapshotFlags)));
}
