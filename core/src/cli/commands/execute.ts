/**
 * `lxkit execute -n NAME [-d] [-f CONFIG] [-s KEY=VAL] [-u UID] [-g GID] -- CMD…`
 * (lxc-execute): an application container. CMD runs under a small init that
 * reaps zombies and forwards signals; its exit status is lxkit's (128+N when
 * signal N killed it). Works with only -f CONFIG, or no config at all.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { action, collectDefines, commonOptions, type CliContext } from '../context.js';

function id(what: string) {
  return (v: string) => {
    if (!/^[0-9]+$/.test(v)) throw new InvalidArgumentError(`${what} must be a number`);
    return Number(v);
  };
}

async function execute(ctx: CliContext, command: string[], opts: { config?: string; define?: string[]; uid?: number; gid?: number; daemon?: boolean }): Promise<number> {
  const { Container } = await import('../../index.js');
  const c = new Container(ctx.opts.name!, { runtime: await ctx.runtime(), lxcpath: await ctx.lxcpath(), log: ctx.log });
  const common = {
    ...(opts.config ? { configFile: opts.config } : {}),
    defines: collectDefines(opts.define),
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
    ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
  };
  if (opts.daemon) {
    await c.execute(command, { ...common, daemon: true });
    return 0;
  }
  const exit = await c.execute(command, { ...common, forwardSignals: true });
  return exit.code;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .option('-d, --daemon', 'run in the background, the container left to its monitor; the command gets /dev/null')
    .option('-f, --config <file>', 'container config to use (the container need not exist)')
    .option('-s, --define <KEY=VAL>', 'set a config key (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('-u, --uid <uid>', 'run the command as this user id', id('uid'))
    .option('-g, --gid <gid>', 'run the command as this group id', id('gid'))
    .argument('[command...]', 'the command, after --')
    .action(action(program, (ctx, command: string[]) => execute(ctx, command, ctx.opts as never)));
}
