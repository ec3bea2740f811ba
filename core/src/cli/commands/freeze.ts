/**
 * `lxkit freeze -n NAME` and `lxkit unfreeze -n NAME` (lxc-freeze,
 * lxc-unfreeze): the container's processes stopped and resumed by the
 * cgroup freezer, through its monitor (which tells FREEZING, FROZEN,
 * THAWED and RUNNING to lxkit monitor).
 */
import type { Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

async function freezer(ctx: CliContext, freeze: boolean): Promise<number> {
  const { runningContainer } = await import('../../parts/client.js');
  const running = runningContainer(await ctx.lxcpath(), ctx.opts.name!);
  await (freeze ? running.freeze() : running.unfreeze());
  return 0;
}

export function defineFreeze(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' }).action(action(program, (ctx) => freezer(ctx, true)));
}

export function defineUnfreeze(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' }).action(action(program, (ctx) => freezer(ctx, false)));
}
