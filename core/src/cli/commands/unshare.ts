/**
 * `lxkit unshare -s NAMESPACES [-u USER] [-H HOSTNAME] [-i IFNAME]… [-d] [-M]
 * -- CMD…` (lxc-unshare): CMD in new namespaces of the host, on this
 * terminal, with lxkit's environment and working directory; its exit status
 * is lxkit's (128+N when signal N killed it).
 */
import type { Command } from 'commander';
import { action, commonOptions, type CliContext } from '../context.js';

interface UnshareOptions {
  namespaces?: string;
  user?: string;
  hostname?: string;
  ifname?: string[];
  daemon?: boolean;
  remount?: boolean;
}

async function unshare(ctx: CliContext, argv: string[], opts: UnshareOptions): Promise<number> {
  const { parseNamespaceList } = await import('../../unshare/namespaces.js');
  const { runUnshared } = await import('../../unshare/run.js');
  const { LxkitError } = await import('../../errors.js');
  if (opts.namespaces === undefined) throw new LxkitError('LXKIT_USAGE', '-s is required: the namespaces to make, e.g. -s "MOUNT|PID"');
  const namespaces = parseNamespaceList(opts.namespaces);
  const user = opts.user === undefined ? undefined : await (await import('../../unshare/user.js')).lookupUser(opts.user);
  const env = Object.entries(process.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  const exit = await runUnshared({
    namespaces,
    argv,
    env,
    cwd: process.cwd(),
    ...(user ? { user } : {}),
    ...(opts.hostname !== undefined ? { hostname: opts.hostname } : {}),
    ...(opts.ifname ? { interfaces: opts.ifname } : {}),
    remount: opts.remount === true,
    daemon: opts.daemon === true,
    forwardSignals: true,
    log: ctx.log,
  });
  return exit?.code ?? 0;
}

export function define(cmd: Command, program: string): void {
  commonOptions(cmd)
    .option('-s, --namespaces <list>', 'the new namespaces, joined by |: MOUNT, PID, UTSNAME, IPC, USER, NETWORK, CGROUP, TIME')
    .option('-u, --user <user>', 'run the command as this user (a name or uid of this host)')
    .option('-H, --hostname <name>', 'the host name in the new uts namespace')
    .option('-i, --ifname <name>', 'move this network interface into the new network namespace (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('-d, --daemon', 'do not wait for the command: lxkit exits once it runs')
    .option('-M, --remount', 'mount a new /proc, /dev/shm and /dev/mqueue in the new mount namespace')
    .argument('[command...]', 'the command and its arguments, after --')
    .action(action(program, (ctx, argv: string[]) => unshare(ctx, argv, ctx.opts as UnshareOptions)));
}
