/**
 * `lxkit __stopped -n NAME -P LXCPATH [--application] [-f CONFIG] [-s KEY=VAL]… [-- CMD…]`:
 * not for people. A daemon's monitor runs it when the container's init has
 * exited, with its control socket as fd 3 and the container's lock as fd 4:
 * it runs the stop and post-stop hooks, removes an ephemeral container, and
 * starts the container again after a reboot (with the same CMD).
 */
import type { Command } from 'commander';
import { action, collectDefines, commonOptions, type CliContext } from '../context.js';

async function stopped(ctx: CliContext, command: string[], opts: { config?: string; define?: string[]; pidfile?: string; application?: boolean }): Promise<number> {
  const { Container, createLogger } = await import('../../index.js');
  const lxcpath = await ctx.lxcpath();
  const runtime = await ctx.runtime();
  const defines = collectDefines(opts.define);
  // Nobody reads this process's stderr: without -o, the container's lxc.log.file is where its messages go, at
  // lxc.log.level (as LXC's: see adoptContainerLog).
  let log = ctx.log;
  if (!ctx.opts.logfile) {
    const probe = new Container(ctx.opts.name!, { runtime, lxcpath });
    const { log: conf } = (await probe.loadConfig({ ...(opts.config ? { configFile: opts.config } : {}), defines })).model;
    if (conf.file) log = createLogger({ program: 'lxkit-stop', container: ctx.opts.name!, file: conf.file, level: conf.level ?? ctx.opts.logpriority ?? 'ERROR' });
  }
  const c = new Container(ctx.opts.name!, { runtime, lxcpath, log });
  await c.finishStopped({
    controlFd: 3,
    lockFd: 4,
    ...(opts.application ? { kind: 'application' as const } : {}),
    ...(command.length ? { command } : {}),
    ...(opts.config ? { configFile: opts.config } : {}),
    ...(opts.pidfile ? { pidfile: opts.pidfile } : {}),
    defines,
  });
  if (log !== ctx.log) (log as { close?: () => void }).close?.();
  return 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .option('-f, --config <file>', 'the config the container was started with')
    .option('-s, --define <KEY=VAL>', 'a key set for the start (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--pidfile <file>', 'the pid file of the start, to remove (and write again after a reboot)')
    .option('--application', 'the container was an application container (execute -d): never started again')
    .argument('[command...]', 'the command the container was started with')
    .action(action(program, (ctx, command: string[]) => stopped(ctx, command, ctx.opts as never)));
}
