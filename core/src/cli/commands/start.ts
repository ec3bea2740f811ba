/**
 * `lxkit start -n NAME [-d | -F] [-f CONFIG] [-s KEY=VAL]… [--share-NS NAME|PID]…
 * [-- CMD…]` (lxc-start): in the background by default (the monitor stays
 * with the container, no lxkit process does), or in the foreground on this
 * terminal with -F.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { action, collectDefines, commonOptions, type CliContext } from '../context.js';

interface StartCliOptions {
  foreground?: boolean;
  console?: string;
  consoleLog?: string;
  pidfile?: string;
  daemon?: boolean;
  config?: string;
  define?: string[];
  logfile?: string;
  logpriority?: string;
  shareNet?: string;
  shareIpc?: string;
  shareUts?: string;
  sharePid?: string;
}

/** lxc-start's --share-NS options: lxc.namespace.share.NS for this start. */
const SHARED = { shareNet: 'net', shareIpc: 'ipc', shareUts: 'uts', sharePid: 'pid' } as const;

async function start(ctx: CliContext, command: string[], opts: StartCliOptions): Promise<number> {
  const { Container, LxkitError } = await import('../../index.js');
  if (opts.foreground && opts.daemon) throw new LxkitError('LXKIT_USAGE', '-d and -F cannot be used together');
  const c = new Container(ctx.opts.name!, { runtime: await ctx.runtime(), lxcpath: await ctx.lxcpath(), log: ctx.log });
  const defines = collectDefines(opts.define);
  // -c and -L are lxc.console.path and lxc.console.logfile for this start, as lxc-start has them.
  if (opts.console) defines.push(['lxc.console.path', resolve(opts.console)]);
  if (opts.consoleLog) defines.push(['lxc.console.logfile', resolve(opts.consoleLog)]);
  for (const [opt, ns] of Object.entries(SHARED) as [keyof typeof SHARED, string][]) {
    if (opts[opt] !== undefined) defines.push([`lxc.namespace.share.${ns}`, opts[opt]!]);
  }
  const pidfile = opts.pidfile ? resolve(opts.pidfile) : undefined;
  const common = {
    ...(command.length ? { command } : {}),
    ...(opts.config ? { configFile: opts.config } : {}),
    defines,
    ...(pidfile ? { pidfile } : {}),
  };
  if (!opts.foreground) {
    await c.start({
      ...common,
      stopLog: { ...(opts.logfile ? { file: opts.logfile } : {}), ...(opts.logpriority ? { level: opts.logpriority } : {}) },
    });
    return 0;
  }
  const { exit } = await c.start({ ...common, foreground: true, forwardSignals: true });
  // A halt or poweroff from inside (reboot(2) kills the init with SIGINT) is a normal stop.
  return exit.signal === 2 ? 0 : exit.code;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .option('-d, --daemon', 'run in the background, the container left to its monitor (the default)')
    .option('-F, --foreground', 'run in the foreground, attached to this terminal, until the container stops')
    .option('-f, --config <file>', "use this container config instead of the container's own")
    .option('-s, --define <KEY=VAL>', 'set a config key for this start (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('-c, --console <file>', "send the container's console output to this file or device (lxc.console.path)")
    .option('-L, --console-log <file>', "log the container's console output to this file (lxc.console.logfile)")
    .option('-p, --pidfile <file>', "write the init's pid to this file while the container runs")
    .option('--share-net <NAME|PID>', 'join the network namespace of this running container or process (lxc.namespace.share.net)')
    .option('--share-ipc <NAME|PID>', 'join its IPC namespace (lxc.namespace.share.ipc)')
    .option('--share-uts <NAME|PID>', 'join its UTS namespace (lxc.namespace.share.uts)')
    .option('--share-pid <NAME|PID>', 'join its PID namespace (lxc.namespace.share.pid)')
    .option('-C, --close-all-fds', 'accepted for lxc-start: lxkit passes the container no inherited file descriptor anyway')
    .argument('[command...]', 'command to run instead of lxc.init.cmd, after --')
    .action(action(program, (ctx, command: string[]) => start(ctx, command, ctx.opts as never)));
}
