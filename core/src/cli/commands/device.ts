/**
 * `lxkit device -n NAME add|del DEVICE [NAME-INSIDE]` (lxc-device): a host
 * device node (a path: the devices cgroup rule and the node in the
 * container) or network interface (a name: moved into the container's
 * network namespace) handed to a running container, or taken back.
 */
import type { Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

async function device(ctx: CliContext, verb: string, dev: string, as: string | undefined): Promise<number> {
  const { addDevice, removeDevice, LxkitError } = await import('../../index.js');
  if (verb !== 'add' && verb !== 'del') throw new LxkitError('LXKIT_USAGE', `"${verb}" is no action: use add or del`);
  const req = { lxcpath: await ctx.lxcpath(), container: ctx.opts.name!, device: dev, ...(as ? { as } : {}) };
  await (verb === 'add' ? addDevice(req) : removeDevice(req));
  ctx.log.info(`${verb === 'add' ? 'added' : 'removed'} ${dev}${as ? ` (${as} in the container)` : ''}`);
  return 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .argument('<action>', 'add or del')
    .argument('<device>', 'a device node of the host (/dev/…) or a network interface')
    .argument('[name]', 'its path (a node) or name (an interface) in the container; the same by default')
    .action(action(program, (ctx, verb: string, dev: string, as: string | undefined) => device(ctx, verb, dev, as)));
}
