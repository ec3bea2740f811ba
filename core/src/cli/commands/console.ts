/** `lxkit console -n NAME [-t TTY] [-e ESCAPE]` (lxc-console): Ctrl-<escape> q leaves (Ctrl-a q by default). */
import { InvalidArgumentError, type Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

async function consoleCommand(ctx: CliContext, o: { tty?: number; escape?: string }): Promise<number> {
  const { runningContainer } = await import('../../parts/client.js');
  await runningContainer(await ctx.lxcpath(), ctx.opts.name!).console({ ...(o.tty !== undefined ? { tty: o.tty } : {}), ...(o.escape ? { escape: o.escape.replace(/^\^/, '') } : {}) });
  return 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .option('-t, --tty <n>', 'the tty to use: 1…lxc.tty.max, or 0 for the console (default 1)', (v: string) => {
      if (!/^[0-9]+$/.test(v)) throw new InvalidArgumentError('the tty is a number');
      return Number(v);
    })
    .option('-e, --escape <letter>', 'the escape character, Ctrl-<letter> (default a)')
    .action(action(program, (ctx) => consoleCommand(ctx, ctx.opts as never)));
}
