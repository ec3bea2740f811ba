/**
 * lxc-attach: a program run inside a running container, by lxkit-attach
 * (native/src/attach/attach.c), which enters the container's namespaces
 * through its init's pidfd. The program joins the init's cgroups first and
 * gets the init's confinement — the capability bounding set, the AppArmor
 * label and the seccomp filter, applied in that order right before exec;
 * the monitor keeps both since the start (M_CGROUPS, M_CONFINE) and hands
 * them over with the init's pidfd. `elevated` leaves out all of it, or the
 * parts it names, as lxc-attach -e does.
 */
import { runTerminalHelper } from '../command/helper-session.js';
import { ARCH_NAMES, archPersonality } from '../config/arch.js';
import { LxkitError } from '../errors.js';
import { planRecorder } from '../launch-plan/active.js';
import { native } from '../native-package.js';
import type { Exit } from '../start/monitor.js';
import { A_REQUEST, ELEVATE } from '../start/protocol.js';
import { CLONE_FLAGS } from '../start/namespaces.js';

/** lxc-attach -s names, and the namespaces they stand for. */
export const ATTACH_NAMESPACES = {
  MOUNT: 'mnt',
  PID: 'pid',
  UTSNAME: 'uts',
  IPC: 'ipc',
  USER: 'user',
  NETWORK: 'net',
  CGROUP: 'cgroup',
  TIME: 'time',
} as const;
export type AttachNamespace = keyof typeof ATTACH_NAMESPACES;

/**
 * lxc-attach -e names: what each leaves out is the capability bounding set;
 * the init's cgroups; the LSM label with the seccomp filter (LXC applies
 * both under its LSM flag).
 */
export type AttachPrivilege = keyof typeof ELEVATE;

export interface AttachOptions {
  /** The namespaces to enter (lxc-attach -s); all the container has by default. */
  namespaces?: readonly AttachNamespace[];
  /** Skip the container's confinement (lxc-attach -e): all of it, or the parts named (-e 'CAP|CGROUP'). */
  elevated?: boolean | readonly AttachPrivilege[];
  /** Start from an empty environment (plus container=lxc, a PATH and `keepEnv`) instead of lxkit's. */
  clearEnv?: boolean;
  /** With clearEnv: names of lxkit's variables to keep (--keep-var). */
  keepEnv?: readonly string[];
  /** VAR=VALUE settings (-v). */
  env?: readonly string[];
  uid?: number;
  gid?: number;
  /** Working directory inside the container (default: lxkit's own when it exists there, else /). */
  cwd?: string;
  /** Give the program a pty (default: when stdin is a terminal). */
  pty?: boolean;
  /** The architecture it runs as (lxc-attach -a: an lxc.arch name) instead of the container's lxc.arch. */
  arch?: string;
  /**
   * Without the container's mount namespace (`namespaces` leaves MOUNT
   * out): mount /proc and /sys anew for the program, in a mount namespace of
   * its own, so that they show the container's processes and network
   * devices (lxc-attach -R).
   */
  remountSysProc?: boolean;
  /** Where a pty's output is logged too (lxc-attach -L; appended, made 0600 even without a pty). */
  ptyLog?: string;
}

const NS_FLAG_ORDER = Object.keys(CLONE_FLAGS) as (keyof typeof CLONE_FLAGS)[];

/**
 * setns flags of the namespaces asked for (all by default); lxkit-attach
 * keeps those the container has, as its monitor tells it with the init's
 * pidfd, and refuses a container that is not RUNNING (ESRCH).
 */
export function attachMask(selected?: readonly AttachNamespace[]): number {
  const wanted = selected?.map((n) => ATTACH_NAMESPACES[n]) ?? NS_FLAG_ORDER;
  return wanted.reduce((f, n) => f | CLONE_FLAGS[n], 0);
}

/** -a's personality, or -1 (the container's). */
function personalityOf(arch: string | undefined): number {
  if (arch === undefined) return -1;
  const persona = archPersonality(arch);
  if (persona === undefined) throw new LxkitError('LXKIT_USAGE', `-a ${arch}: unknown architecture; use one of ${ARCH_NAMES.join(' ')}`);
  return persona;
}

/** The request's bits of what `elevated` leaves out. */
function elevatedMask(elevated: AttachOptions['elevated']): number {
  if (elevated === true) return ELEVATE.CAP | ELEVATE.CGROUP | ELEVATE.LSM;
  return (elevated || []).reduce((m, p) => m | ELEVATE[p], 0);
}

/**
 * Whether stdin is a terminal, through the addon: node:tty would load node:net
 * and the streams (~4 ms of every command of the client part). A launch plan
 * has it already (its head records which of fds 0-2 are terminals).
 */
function stdinIsTerminal(): boolean {
  const plan = planRecorder();
  const ask = () => native().isatty(0);
  return plan ? plan.untracked(ask) : ask();
}

/** Runs `command` in the container whose monitor serves `socket` (what the monitor says is all lxkit-attach needs). */
export async function attachProgram(socket: string, container: string, command: readonly string[], opts: AttachOptions = {}): Promise<Exit> {
  for (const e of opts.env ?? []) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(e)) throw new LxkitError('LXKIT_USAGE', `-v ${e}: expected VAR=VALUE`);
  }
  const env = opts.env ?? [];
  const keep = opts.keepEnv ?? [];
  const code = await runTerminalHelper(
    'lxkit-attach',
    {
      type: A_REQUEST,
      ints: [
        attachMask(opts.namespaces),
        opts.uid ?? -1,
        opts.gid ?? -1,
        (opts.pty ?? stdinIsTerminal()) ? 1 : 0,
        opts.clearEnv ? 1 : 0,
        elevatedMask(opts.elevated),
        command.length,
        env.length,
        keep.length,
        personalityOf(opts.arch),
        opts.remountSysProc ? 1 : 0,
        opts.ptyLog === undefined ? 0 : 1,
      ],
      strs: [socket, opts.cwd ?? process.cwd(), ...command, ...env, ...keep, ...(opts.ptyLog === undefined ? [] : [opts.ptyLog])],
    },
    `attaching to container "${container}"`,
    container,
  );
  return { code, signal: code > 128 ? code - 128 : 0 };
}
