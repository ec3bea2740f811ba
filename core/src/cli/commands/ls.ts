/** `lxkit ls` (lxc-ls): the containers of the lxcpath, one name per line. */
import type { Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

async function ls(ctx: CliContext): Promise<number> {
  const { listContainers } = await import('../../index.js');
  const names = await listContainers((await ctx.toolkit()).lxcpath);
  await ctx.out(names.map((n) => n + '\n').join(''));
  return 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd)
    .option('-1, --line', 'one container per line (the only layout so far)')
    .action(action(program, (ctx) => ls(ctx)));
}
