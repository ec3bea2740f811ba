/** `lxkit wait -n NAME -s 'STATE|STATE…' [-t TIMEOUT]` (lxc-wait): exit 0 once reached, 1 on timeout. */
import { InvalidArgumentError, type Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

const STATES = ['STOPPED', 'STARTING', 'RUNNING', 'STOPPING', 'ABORTING', 'FREEZING', 'FROZEN', 'THAWED'];

function states(v: string): string[] {
  const list = v.split('|').map((s) => s.trim().toUpperCase()).filter(Boolean);
  const bad = list.filter((s) => !STATES.includes(s));
  if (list.length === 0 || bad.length > 0) throw new InvalidArgumentError(`unknown state ${bad.join(', ') || '""'}; states are ${STATES.join(' ')}`);
  return list;
}

function seconds(v: string): number {
  if (!/^-?[0-9]+$/.test(v)) throw new InvalidArgumentError('the timeout is a number of seconds');
  return Number(v);
}

async function wait(ctx: CliContext, opts: { state: string[]; timeout?: number }): Promise<number> {
  const { runningContainer } = await import('../../parts/client.js');
  const name = ctx.opts.name!;
  const reached = await runningContainer(await ctx.lxcpath(), name).wait(opts.state as never, opts.timeout !== undefined && opts.timeout >= 0 ? opts.timeout * 1000 : undefined);
  if (!reached) ctx.log.error(`container "${name}" did not reach ${opts.state.join('|')} within ${opts.timeout} s`);
  return reached ? 0 : 1;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .requiredOption('-s, --state <states>', "the states to wait for, separated by | ('RUNNING|STOPPED')", states)
    .option('-t, --timeout <seconds>', 'give up after this many seconds (exit 1)', seconds)
    .action(action(program, (ctx) => wait(ctx, ctx.opts as never)));
}
