/**
 * `lxkit monitor [-n REGEX]` (lxc-monitor): prints the state changes of the
 * lxcpath's containers as they happen, `'NAME' changed state to [STATE]`,
 * until interrupted. -n selects containers by a regular expression on
 * their names (all by default).
 */
import type { Command } from 'commander';
import { LxkitError } from '../../errors.js';
import { action, commonOptions, type CliContext } from '../context.js';

async function monitor(ctx: CliContext): Promise<number> {
  const { watchPrefix, watchStates } = await import('../../parts/client.js');
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${ctx.opts.name ?? '.*'})$`);
  } catch (err) {
    throw new LxkitError('LXKIT_USAGE', `-n ${ctx.opts.name}: not a regular expression (${(err as Error).message})`);
  }
  const server = await watchStates(watchPrefix(await ctx.lxcpath()), ({ container, state }) => {
    if (re.test(container)) process.stdout.write(`'${container}' changed state to [${state}]\n`);
  });
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => resolve());
  });
  server.close();
  return 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'optional' }).action(action(program, (ctx) => monitor(ctx)));
}
