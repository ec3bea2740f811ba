/** `lxkit create -n NAME -t TEMPLATE [-f CONFIG] [-- TEMPLATE-ARGS]` (lxc-create). */
import type { Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

async function create(ctx: CliContext, args: string[], opts: { template?: string; config?: string }): Promise<number> {
  const { Container } = await import('../../index.js');
  const c = new Container(ctx.opts.name!, { runtime: await ctx.runtime(), lxcpath: await ctx.lxcpath(), log: ctx.log });
  await c.create({
    ...(opts.template ? { template: opts.template } : {}),
    templateArgs: args,
    ...(opts.config ? { configFile: opts.config } : {}),
  });
  ctx.log.info(`created container ${c.name}`);
  return 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .option('-t, --template <template>', 'template to populate the container with (e.g. busybox)')
    .option('-f, --config <file>', 'initial container config, instead of the toolkit\'s default container config')
    .argument('[template-args...]', 'arguments for the template, after --')
    .action(action(program, (ctx, args: string[]) => create(ctx, args, ctx.opts as { template?: string; config?: string })));
}
