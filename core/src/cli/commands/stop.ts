/**
 * `lxkit stop -n NAME [-r] [-W] [-t TIMEOUT] [-k] [--nokill]` (lxc-stop): the
 * container's halt signal, then SIGKILL if it has not stopped within the
 * timeout. Exit 2 when it was not running, as lxc-stop.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { LxkitError, isLxkitError } from '../../errors.js';
import { action, commonOptions, type CliContext } from '../context.js';

async function stop(ctx: CliContext, opts: { reboot?: boolean; nowait?: boolean; timeout?: number; kill?: boolean; nokill?: boolean }): Promise<number> {
  if (opts.kill && opts.nokill) throw new LxkitError('LXKIT_USAGE', '-k and --nokill cannot be used together');
  const { runningContainer } = await import('../../parts/client.js');
  const c = runningContainer(await ctx.lxcpath(), ctx.opts.name!);
  try {
    await c.stop({
      ...(opts.reboot ? { reboot: true } : {}),
      ...(opts.nowait ? { nowait: true } : {}),
      ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
      ...(opts.kill ? { kill: true } : {}),
      ...(opts.nokill ? { nokill: true } : {}),
    });
  } catch (err) {
    if (isLxkitError(err, 'LXKIT_CONTAINER_NOT_RUNNING')) {
      ctx.log.error(err.message);
      return 2;
    }
    throw err;
  }
  return 0;
}

function seconds(v: string): number {
  if (!/^-?[0-9]+$/.test(v)) throw new InvalidArgumentError('the timeout is a number of seconds (-1: wait forever)');
  return Number(v);
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd, { name: 'required' })
    .option('-r, --reboot', 'reboot the container (lxc.signal.reboot)')
    .option('-W, --nowait', 'send the signal and return without waiting')
    .option('-t, --timeout <seconds>', 'wait this long for a clean halt before killing (default 60; -1: forever)', seconds)
    .option('-k, --kill', 'kill the container at once (SIGKILL)')
    .option('--nokill', 'never kill: fail if the container does not halt within the timeout')
    .option('--nolock', "accepted for lxc-stop's sake: lxkit's stop takes no lock to leave out")
    .action(action(program, (ctx) => stop(ctx, ctx.opts as never)));
}
