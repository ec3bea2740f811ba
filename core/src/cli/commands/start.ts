/** `lxkit start -n NAME -F [-f CONFIG] [-s KEY=VAL] [-- CMD…]` (lxc-start in the foreground). */
import type { Command } from 'commander';
import { action, collectDefines, commonOptions, type CliContext } from '../context.js';

async function start(ctx: CliContext, command: string[], opts: { foreground?: boolean; daemon?: boolean; rcfile?: string; config?: string; define?: string[] }): Promise<number> {
  const { Container, LxkitError } = await import('../../index.js');
  if (!opts.foreground) {
    throw new LxkitError('LXKIT_USAGE', 'daemon mode (-d, the default) is not available yet; start in the foreground with -F');
  }
  const c = new Container(ctx.opts.name!, { runtime: await ctx.runtime(), lxcpath: (await ctx.toolkit()).lxcpath, log: ctx.log });
  const { exit } = await c.start({
    foreground: true,
    ...(command.length ? { command } : {}),
    ...(opts.config ? { configFile: opts.config } : {}),
    defines: collectDefines(opts.define),
    forwardSignals: true,
  });
  // A halt or poweroff from inside (reboot(2) kills the init with SIGINT) is a normal stop.
  return exit.signal === 2 ? 0 : exit.code;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .option('-F, --foreground', 'run in the foreground, attached to this terminal, until the container stops')
    .option('-d, --daemon', 'run in the background (not available yet)')
    .option('-f, --config <file>', 'use this container config instead of the container\'s own')
    .option('-s, --define <KEY=VAL>', 'set a config key for this start (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .argument('[command...]', 'command to run instead of lxc.init.cmd, after --')
    .action(action(program, (ctx, command: string[]) => start(ctx, command, ctx.opts as never)));
}
