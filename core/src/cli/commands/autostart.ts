/**
 * `lxkit autostart [-r | -s | -k] [-L] [-a] [-A] [-g GROUPS]… [-t TIMEOUT]`
 * (lxc-autostart): starts the containers of the lxcpath that have
 * lxc.start.auto set, in lxc.start.order, waiting lxc.start.delay after
 * each; or reboots, shuts down (-t: then kills) or kills the running ones,
 * in the reverse order. -L lists them (with their delays) instead.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

interface AutostartCliOptions {
  reboot?: boolean;
  shutdown?: boolean;
  kill?: boolean;
  list?: boolean;
  all?: boolean;
  ignoreAuto?: boolean;
  groups?: string[];
  timeout: number;
}

/** -g: comma-separated, repeatable, in order; an empty item (`-g ''`, `-g onboot,`) is the NULL group. */
const groups = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((g) => g.trim())];

function seconds(v: string): number {
  if (!/^-?[0-9]+$/.test(v)) throw new InvalidArgumentError('the timeout is a number of seconds');
  return Number(v);
}

async function autostart(ctx: CliContext, o: AutostartCliOptions): Promise<number> {
  const chosen = [o.reboot, o.shutdown, o.kill].filter(Boolean).length;
  const { autostartPlan, Container, LxkitError, runningContainer } = await import('../../index.js');
  if (chosen > 1) throw new LxkitError('LXKIT_USAGE', '-r, -s and -k cannot be used together');
  const what = o.reboot ? 'reboot' : o.shutdown ? 'shutdown' : o.kill ? 'kill' : 'start';
  const runtime = await ctx.runtime();
  const lxcpath = await ctx.lxcpath();
  const plan = await autostartPlan(
    runtime,
    lxcpath,
    { action: what, ...(o.all ? { all: true } : {}), ...(o.ignoreAuto ? { ignoreAuto: true } : {}), ...(o.groups ? { groups: o.groups } : {}) },
    (m) => ctx.log.warn(m),
  );
  const starting = what === 'start' || what === 'reboot';
  if (o.list) {
    await ctx.out(plan.map((e) => (starting ? `${e.name} ${e.delay}\n` : `${e.name}\n`)).join(''));
    return 0;
  }
  let failed = 0;
  for (const { name, delay } of plan) {
    try {
      if (what === 'start') await new Container(name, { runtime, lxcpath, log: ctx.log }).start();
      else if (what === 'reboot') await runningContainer(lxcpath, name).stop({ reboot: true });
      else if (what === 'kill') await runningContainer(lxcpath, name).stop({ kill: true });
      else await runningContainer(lxcpath, name).stop({ timeout: o.timeout });
    } catch (err) {
      // As lxc-autostart: one container's failure does not stop the others.
      ctx.log.error(`${name}: ${(err as Error).message}`);
      failed++;
      continue;
    }
    if (starting && delay > 0) await new Promise((r) => setTimeout(r, delay * 1000));
  }
  return failed ? 1 : 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd)
    .option('-r, --reboot', 'reboot the running ones (lxc.signal.reboot)')
    .option('-s, --shutdown', 'shut the running ones down (the halt signal; killed after -t)')
    .option('-k, --kill', 'kill the running ones (lxc.signal.stop)')
    .option('-L, --list', 'print what would be done, with the delays, and do nothing')
    .option('-a, --all', 'every group, not only the containers in none (lxc.group)')
    .option('-A, --ignore-auto', 'also the containers without lxc.start.auto')
    .option('-g, --groups <groups>', "these groups, in order, comma separated, repeatable ('' or an empty item: the containers in no group)", groups)
    .option('-t, --timeout <seconds>', 'how long a shutdown waits before it kills (60 by default; -1: no limit)', seconds, 60)
    .action(action(program, (ctx) => autostart(ctx, ctx.opts as never)));
}
