/**
 * `lxkit console -n NAME [-t TTY] [-e ESCAPE]` (lxc-console): Ctrl-<escape> q leaves (Ctrl-a q by default).
 * `--log` / `--clear`: the console's ring buffer (lxc.console.buffer.size) printed / emptied instead,
 * what LXC gives through its API only (console_log()).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

interface ConsoleCliOptions {
  tty?: number;
  escape?: string;
  log?: boolean;
  clear?: boolean;
}

async function consoleCommand(ctx: CliContext, o: ConsoleCliOptions): Promise<number> {
  const { runningContainer } = await import('../../parts/client.js');
  const running = runningContainer(await ctx.lxcpath(), ctx.opts.name!);
  if (o.log || o.clear) {
    const data = await running.consoleLog({ read: o.log === true, clear: o.clear === true });
    if (data.length > 0) await new Promise<void>((resolve, reject) => process.stdout.write(data, (err) => (err ? reject(err) : resolve())));
    return 0;
  }
  await running.console({ ...(o.tty !== undefined ? { tty: o.tty } : {}), ...(o.escape ? { escape: o.escape.replace(/^\^/, '') } : {}) });
  return 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .option('-t, --tty <n>', 'the tty to use: 1…lxc.tty.max, or 0 for the console (default 1)', (v: string) => {
      if (!/^[0-9]+$/.test(v)) throw new InvalidArgumentError('the tty is a number');
      return Number(v);
    })
    .option('-e, --escape <letter>', 'the escape character, Ctrl-<letter> (default a)')
    .option('--log', "print the console's output kept in memory (lxc.console.buffer.size) since the last --log, and exit")
    .option('--clear', 'empty that memory (after printing it, with --log), and exit')
    .action(action(program, (ctx) => consoleCommand(ctx, ctx.opts as never)));
}
