/**
 * `lxkit cgroup -n NAME KEY [VALUE]` (lxc-cgroup): prints a cgroup file of
 * the running container, or writes VALUE to it. KEY is the file name
 * (memory.limit_in_bytes, pids.max, cpuset.cpus…); the hierarchy is the one
 * of its controller. The container's config is not changed.
 */
import type { Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

async function cgroup(ctx: CliContext, key: string, value: string | undefined): Promise<number> {
  const { runningContainer } = await import('../../parts/client.js');
  const running = runningContainer(await ctx.lxcpath(), ctx.opts.name!);
  if (value === undefined) await ctx.out(`${await running.getCgroupItem(key)}\n`);
  else await running.setCgroupItem(key, value);
  return 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .argument('<key>', 'the cgroup file, e.g. memory.limit_in_bytes')
    .argument('[value]', 'the value to write (without it: print the current one)')
    .action(action(program, (ctx, key: string, value?: string) => cgroup(ctx, key, value)));
}
