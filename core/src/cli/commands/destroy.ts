/** `lxkit destroy -n NAME [-f] [-s]` (lxc-destroy). */
import type { Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

async function destroy(ctx: CliContext, opts: { force?: boolean; snapshots?: boolean }): Promise<number> {
  const { Container } = await import('../../index.js');
  const c = new Container(ctx.opts.name!, { runtime: await ctx.runtime(), lxcpath: await ctx.lxcpath(), log: ctx.log });
  await c.destroy({ force: opts.force === true, snapshots: opts.snapshots === true });
  ctx.log.info(`destroyed container ${c.name}`);
  return 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .option('-f, --force', 'stop the container first if it is running (its init is killed)')
    .option('-s, --snapshots', 'destroy its snapshots too (without, a container with snapshots is refused)')
    .action(action(program, (ctx) => destroy(ctx, ctx.opts as never)));
}
