/**
 * `lxkit attach -n NAME [-e[PRIVILEGES]] [-a ARCH] [-s NAMESPACES] [-R] [-L FILE] [--clear-env|--keep-env] [-v VAR=VAL]…
 * [--keep-var NAME]… [-u UID] [-g GID] [-- CMD…]` (lxc-attach): CMD (the
 * user's shell by default) inside the running container; its exit status is
 * lxkit's.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { AttachPrivilege } from '../../attach/attach.js';
import { ARCH_NAMES, archPersonality } from '../../config/arch.js';
import { LxkitError } from '../../errors.js';
import { action, commonOptions, type CliContext } from '../context.js';

const NAMES = ['MOUNT', 'PID', 'UTSNAME', 'IPC', 'USER', 'NETWORK', 'CGROUP', 'TIME'];
const PRIVILEGES = ['CAP', 'CGROUP', 'LSM'];

/** A `|`-separated list of `names` (lxc-attach's -s and -e), upper-cased. */
function names(what: string, known: readonly string[]) {
  return (v: string): string[] => {
    const list = v.split('|').map((s) => s.trim().toUpperCase()).filter(Boolean);
    const bad = list.filter((n) => !known.includes(n));
    if (bad.length || list.length === 0) throw new InvalidArgumentError(`unknown ${what} ${bad.join(', ') || '""'}; use ${known.join('|')}`);
    return list;
  };
}

function id(what: string) {
  return (v: string) => {
    if (!/^[0-9]+$/.test(v)) throw new InvalidArgumentError(`${what} must be a number`);
    return Number(v);
  };
}

interface AttachCliOptions {
  /** true: -e alone (all); a list: -e'CAP|LSM'. */
  elevatedPrivileges?: boolean | string[];
  namespaces?: string[];
  arch?: string;
  remountSysProc?: boolean;
  ptyLog?: string;
  clearEnv?: boolean;
  keepEnv?: boolean;
  setVar?: string[];
  keepVar?: string[];
  uid?: number;
  gid?: number;
}

async function attach(ctx: CliContext, command: string[], o: AttachCliOptions): Promise<number> {
  if (o.clearEnv && o.keepEnv) throw new LxkitError('LXKIT_USAGE', '--clear-env and --keep-env cannot be used together');
  const { runningContainer } = await import('../../parts/client.js');
  const exit = await runningContainer(await ctx.lxcpath(), ctx.opts.name!).attach(command, {
    ...(o.namespaces ? { namespaces: o.namespaces as never } : {}),
    ...(o.arch ? { arch: o.arch } : {}),
    ...(o.remountSysProc ? { remountSysProc: true } : {}),
    ...(o.ptyLog !== undefined ? { ptyLog: o.ptyLog } : {}),
    ...(o.elevatedPrivileges ? { elevated: o.elevatedPrivileges as true | AttachPrivilege[] } : {}),
    ...(o.clearEnv ? { clearEnv: true } : {}),
    ...(o.keepVar ? { keepEnv: o.keepVar } : {}),
    ...(o.setVar ? { env: o.setVar } : {}),
    ...(o.uid !== undefined ? { uid: o.uid } : {}),
    ...(o.gid !== undefined ? { gid: o.gid } : {}),
  });
  return exit.code;
}

export function define(cmd: Command, program: string): void {
  const list = (v: string, prev: string[] = []) => [...prev, v];
  commonOptions(cmd, { name: 'required' })
    .option(
      '-e, --elevated-privileges [privileges]',
      `do not apply the container's confinement: all of it, or what is named, separated by | (${PRIVILEGES.join('|')}: capabilities, cgroup, LSM label and seccomp)`,
      names('privilege', PRIVILEGES),
    )
    .option('-a, --arch <ARCH>', "run the program as ARCH (an lxc.arch name: i686, x86_64...) instead of the container's lxc.arch", (v: string) => {
      if (archPersonality(v) === undefined) throw new InvalidArgumentError(`unknown architecture; use one of ${ARCH_NAMES.join(' ')}`);
      return v;
    })
    .option('-s, --namespaces <NS>', `namespaces to enter, separated by | (${NAMES.join('|')}); all by default`, names('namespace', NAMES))
    .option('-R, --remount-sys-proc', "without the container's mount namespace (-s): mount /proc and /sys anew, showing its processes and devices")
    .option('-L, --pty-log <file>', "append the program's output on its pty to FILE too")
    .option('--clear-env', 'start from an empty environment (container=lxc, a PATH, --keep-var names)')
    .option('--keep-env', "keep lxkit's environment (the default)")
    .option('-v, --set-var <VAR=VAL>', 'set an environment variable (repeatable)', list)
    .option('--keep-var <NAME>', 'with --clear-env, keep this variable (repeatable)', list)
    .option('-u, --uid <uid>', 'run as this user id in the container (default 0)', id('uid'))
    .option('-g, --gid <gid>', 'run as this group id in the container (default 0)', id('gid'))
    .argument('[command...]', "the program and its arguments, after -- (the user's shell by default)")
    .action(action(program, (ctx, command: string[]) => attach(ctx, command, ctx.opts as never)));
}
