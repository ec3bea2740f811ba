/**
 * `lxkit monitor [-n REGEX] [-P PATH]… [-Q]` (lxc-monitor): prints what
 * happens to the containers as it happens, as lxc-monitor prints it —
 * `'NAME' changed state to [STATE]`, and `'NAME' exited with status [N]` when
 * an init exits — until interrupted. -n selects containers by a regular
 * expression on their names (all by default); -P may be given several times
 * to watch several lxcpaths.
 */
import type { Command } from 'commander';
import { LxkitError } from '../../errors.js';
import { action, commonOptions, type CliContext } from '../context.js';

async function monitor(ctx: CliContext, lxcpaths: readonly string[], quit: boolean): Promise<number> {
  // lxc-monitor -Q asks LXC's lxc-monitord to quit; lxkit has no such daemon (each container's monitor tells the watchers itself).
  if (quit) {
    ctx.log.debug('monitor -Q: there is no monitor daemon to quit');
    return 0;
  }
  const { watchStates } = await import('../../parts/client.js');
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${ctx.opts.name ?? '.*'})$`);
  } catch (err) {
    throw new LxkitError('LXKIT_USAGE', `-n ${ctx.opts.name}: not a regular expression (${(err as Error).message})`);
  }
  const paths = lxcpaths.length > 0 ? [...new Set(lxcpaths)] : [await ctx.lxcpath()];
  const servers = await Promise.all(
    paths.map((path) =>
      watchStates(
        path,
        ({ container, state }) => {
          if (re.test(container)) process.stdout.write(`'${container}' changed state to [${state}]\n`);
        },
        ({ container, code }) => {
          if (re.test(container)) process.stdout.write(`'${container}' exited with status [${code}]\n`);
        },
      ),
    ),
  );
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => resolve());
  });
  for (const server of servers) server.close();
  return 0;
}

export function define(cmd: Command, program: string): void {
  // Every -P given (commander keeps only the last as the option's value).
  const lxcpaths: string[] = [];
  commonOptions(cmd, { name: 'optional' })
    .option('-Q, --quit', "lxc-monitor's: tell lxc-monitord to quit; lxkit runs no such daemon, so this only exits")
    .on('option:lxcpath', (path: string) => void lxcpaths.push(path))
    .action(action(program, (ctx) => monitor(ctx, lxcpaths, (ctx.opts as { quit?: boolean }).quit === true)));
}
