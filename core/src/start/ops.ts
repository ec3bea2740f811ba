/**
 * Ops for the container's first process, queued by the core and by plugins
 * in their stage taps, then sent as one batch per stage. The C side is
 * native/src/monitor/ops.h and child.c (keep codes and layouts in step).
 *
 * Every op carries `what` it does and, when it comes from configuration,
 * where (file, line, key), so that a failure inside the container is
 * reported in the user's terms.
 */
import { encodeBatch } from './protocol.js';

export const OP = {
  MAKE_RSLAVE: 1,
  SET_ROOT: 2,
  MOUNT: 3,
  ATTACH_TREE: 4,
  MKDIR: 5,
  MKNOD: 6,
  SYMLINK: 7,
  WRITE: 8,
  PIVOT: 9,
  SETHOSTNAME: 10,
  RUN: 11,
  EXEC: 12,
  NO_NEW_PRIVS: 13,
  PRLIMIT: 14,
  UMOUNT: 15,
  PTY: 16,
  BECOME_ROOT: 17,
  SETNS: 18,
  LOOPBACK_UP: 19,
  UNSHARE: 20,
  CHOWN: 21,
  CAPS: 22,
  LSM_LABEL: 23,
  SECCOMP: 24,
  BOOT_ID: 25,
  PERSONALITY: 26,
  SESSION_KEYRING: 27,
  SCHED_CORE: 28,
  NET_LINK: 29,
  NET_ADDR: 30,
  NET_ROUTE: 31,
} as const;

/** Path flags (ops.h PF_*). */
export const PF = {
  IN_ROOT: 0x1,
  OPTIONAL: 0x2,
  CREATE_DIR: 0x4,
  CREATE_FILE: 0x8,
  SOURCE_IN_ROOT: 0x10,
  PARENTS: 0x20,
  SOURCE_SLOT: 0x40,
} as const;

export const EXEC_MODE = { REPLACE: 0, INIT: 1 } as const;
export const PTY_KIND = { TTY: 0, CONSOLE: 1 } as const;

/** Where an op comes from, for messages. */
export interface OpInfo {
  readonly what: string;
  readonly origin?: { readonly file: string; readonly line: number; readonly key: string };
}

export interface Op extends OpInfo {
  readonly code: number;
  readonly ints: number[];
  readonly strs: (string | Buffer)[];
}

export interface PathOptions {
  /** Resolve beneath the container's root (never leaving it). */
  inRoot?: boolean;
  /** A missing source or target skips the op instead of failing. */
  optional?: boolean;
}

export interface MountOp extends PathOptions {
  source: string;
  target: string;
  fstype?: string;
  data?: string;
  flags?: number;
  /** Flags applied by a bind remount right after (ro, nosuid... on a bind mount). */
  remount?: number;
  create?: 'dir' | 'file';
  /** The source resolves beneath the root too (lxc.mount.entry's `relative`). */
  sourceInRoot?: boolean;
  /** The source is an fd received earlier, in this slot. */
  sourceSlot?: number;
}

export interface ExecOp {
  argv: readonly string[];
  env: readonly string[];
  cwd?: string;
  uid?: number;
  gid?: number;
  groups?: readonly number[];
  /** Slot of the console slave to use as stdin/stdout/stderr; undefined keeps lxkit's own stdio. */
  stdioSlot?: number;
  /** REPLACE: exec the program as init. INIT: stay as a small init running it (application containers). */
  mode?: (typeof EXEC_MODE)[keyof typeof EXEC_MODE];
}

const pf = (o: PathOptions & { create?: 'dir' | 'file'; sourceInRoot?: boolean; parents?: boolean }) =>
  (o.inRoot ? PF.IN_ROOT : 0) |
  (o.optional ? PF.OPTIONAL : 0) |
  (o.create === 'dir' ? PF.CREATE_DIR : 0) |
  (o.create === 'file' ? PF.CREATE_FILE : 0) |
  (o.sourceInRoot ? PF.SOURCE_IN_ROOT : 0) |
  (o.parents ? PF.PARENTS : 0);

export class OpQueue {
  readonly ops: Op[] = [];

  #push(code: number, ints: number[], strs: (string | Buffer)[], info: OpInfo): this {
    this.ops.push({ code, ints, strs, ...info });
    return this;
  }

  get length(): number {
    return this.ops.length;
  }

  encode(): Buffer {
    return encodeBatch(this.ops);
  }

  makeRslave(info: OpInfo): this {
    return this.#push(OP.MAKE_RSLAVE, [0], [], info);
  }

  setRoot(path: string, info: OpInfo): this {
    return this.#push(OP.SET_ROOT, [0], [path], info);
  }

  mount(m: MountOp, info: OpInfo): this {
    const flags = pf(m) | (m.sourceSlot !== undefined ? PF.SOURCE_SLOT : 0);
    const source = m.sourceSlot !== undefined ? String(m.sourceSlot) : m.source;
    return this.#push(OP.MOUNT, [flags, m.flags ?? 0, m.remount ?? 0], [source, m.target, m.fstype ?? '', m.data ?? ''], info);
  }

  attachTree(target: string, slot: number, o: PathOptions, info: OpInfo): this {
    return this.#push(OP.ATTACH_TREE, [pf(o), slot], [target], info);
  }

  mkdir(path: string, o: PathOptions & { mode?: number; parents?: boolean }, info: OpInfo): this {
    return this.#push(OP.MKDIR, [pf(o), o.mode ?? 0o755], [path], info);
  }

  mknod(path: string, o: PathOptions & { mode: number; major: number; minor: number }, info: OpInfo): this {
    return this.#push(OP.MKNOD, [pf(o), o.mode, o.major, o.minor], [path], info);
  }

  symlink(text: string, path: string, o: PathOptions, info: OpInfo): this {
    return this.#push(OP.SYMLINK, [pf(o)], [text, path], info);
  }

  write(path: string, data: string, o: PathOptions & { create?: 'file'; mode?: number }, info: OpInfo): this {
    return this.#push(OP.WRITE, [pf(o), o.mode ?? 0o644], [path, data], info);
  }

  pivotRoot(info: OpInfo): this {
    return this.#push(OP.PIVOT, [0], [], info);
  }

  sethostname(name: string, info: OpInfo): this {
    return this.#push(OP.SETHOSTNAME, [0], [name], info);
  }

  /** Runs a program to completion in the container's namespaces (site hook scripts). */
  run(argv: readonly string[], env: readonly string[], info: OpInfo): this {
    return this.#push(OP.RUN, [0, argv.length, env.length], [...argv, ...env], info);
  }

  exec(e: ExecOp, info: OpInfo): this {
    const groups = e.groups ?? [];
    const ints = [
      0,
      e.mode ?? EXEC_MODE.REPLACE,
      e.argv.length,
      e.env.length,
      e.uid ?? -1,
      e.gid ?? -1,
      e.stdioSlot ?? -1,
      e.groups === undefined ? -1 : groups.length,
      ...groups,
    ];
    return this.#push(OP.EXEC, ints, [...e.argv, ...e.env, e.cwd ?? ''], info);
  }

  noNewPrivs(info: OpInfo): this {
    return this.#push(OP.NO_NEW_PRIVS, [0], [], info);
  }

  /** A core scheduling domain of the init's own, which its children inherit (lxc.sched.core). */
  schedCore(info: OpInfo): this {
    return this.#push(OP.SCHED_CORE, [0], [], info);
  }

  /** A new session keyring, joined (lxc.keyring.session): the container does not share lxkit's. */
  sessionKeyring(info: OpInfo): this {
    return this.#push(OP.SESSION_KEYRING, [0], [], info);
  }

  /** personality(2): the execution domain the init and its children run with (lxc.arch). */
  personality(persona: number, info: OpInfo): this {
    return this.#push(OP.PERSONALITY, [0, persona], [], info);
  }

  /** soft/hard: a number, or -1 for unlimited. */
  prlimit(resource: number, soft: number, hard: number, info: OpInfo): this {
    return this.#push(OP.PRLIMIT, [0, resource, soft, hard], [], info);
  }

  umount(path: string, flags: number, o: PathOptions, info: OpInfo): this {
    return this.#push(OP.UMOUNT, [pf(o), flags], [path], info);
  }

  /** A pty from the container's devpts; the master goes to the monitor, the slave is bound on `target`. */
  /** A pty of `ptmx`, bound on `target` when given; `mode` (when given) is set on it first. */
  pty(p: { ptmx: string; target?: string; kind: number; index: number; slot?: number; mode?: number } & PathOptions, info: OpInfo): this {
    return this.#push(OP.PTY, [pf(p), p.kind, p.index, p.slot ?? -1, p.mode ?? -1], [p.ptmx, p.target ?? ''], info);
  }

  becomeRoot(info: OpInfo): this {
    return this.#push(OP.BECOME_ROOT, [0], [], info);
  }

  setns(path: string, nstype: number, info: OpInfo): this {
    return this.#push(OP.SETNS, [0, nstype], [path], info);
  }

  loopbackUp(info: OpInfo): this {
    return this.#push(OP.LOOPBACK_UP, [0], [], info);
  }

  unshare(flags: number, info: OpInfo): this {
    return this.#push(OP.UNSHARE, [0, flags], [], info);
  }

  /**
   * Capability sets, as bit masks (bit N: capability N): every capability
   * outside `bounding` leaves the bounding set now; the inheritable and
   * ambient sets are set within what the process holds.
   */
  caps(sets: { bounding: bigint; inheritable: bigint; ambient: bigint }, info: OpInfo): this {
    return this.#push(OP.CAPS, [0, Number(sets.bounding), Number(sets.inheritable), Number(sets.ambient)], [], info);
  }

  /** The AppArmor label the init runs under: changed to right before exec (after every other op). */
  lsmLabel(label: string, info: OpInfo): this {
    return this.#push(OP.LSM_LABEL, [0], [label], info);
  }

  /**
   * A seccomp BPF program (struct sock_filter[]), installed right before
   * exec, after the label. With `notify` (the policy has notify rules) the
   * filter's listener goes to the monitor, which forwards notifications.
   */
  seccomp(program: Buffer, info: OpInfo, opts: { notify?: boolean } = {}): this {
    return this.#push(OP.SECCOMP, [0, opts.notify ? 1 : 0], [program], info);
  }

  /**
   * A random boot id written to `file` and bound read-only on `target`
   * (LXC's /dev/.lxc-boot-id on /proc/sys/kernel/random/boot_id); made by
   * the first process, so that every start (a replayed one too) gets its
   * own. Skipped when `target` is missing (no /proc).
   */
  bootId(file: string, target: string, o: PathOptions, info: OpInfo): this {
    return this.#push(OP.BOOT_ID, [pf(o)], [file, target], info);
  }

  chown(path: string, uid: number, gid: number, o: PathOptions, info: OpInfo): this {
    return this.#push(OP.CHOWN, [pf(o), uid, gid], [path], info);
  }

  /**
   * Changes the network device `ifname` from inside the container's network
   * namespace: a new name, a MAC address (6 bytes), an MTU, up.
   */
  netLink(ifname: string, change: { rename?: string; hwaddr?: Buffer; mtu?: number; up?: boolean }, info: OpInfo): this {
    return this.#push(OP.NET_LINK, [0, change.mtu ?? 0, change.up ? 1 : 0], [ifname, change.rename ?? '', change.hwaddr ?? ''], info);
  }

  /** An address on `ifname` (`address`: 4 or 16 bytes; `broadcast`: 4 bytes, IPv4 only). */
  netAddress(ifname: string, a: { family: 4 | 6; address: Buffer; prefix: number; broadcast?: Buffer }, info: OpInfo): this {
    return this.#push(OP.NET_ADDR, [0, a.family, a.prefix], [ifname, a.address, a.broadcast ?? ''], info);
  }

  /**
   * A route through `ifname`: to `destination`/`prefix` (none: the default
   * route), via `gateway` (none: on the link). A gateway outside the
   * device's subnets gets a host route on the link first, as LXC does.
   */
  netRoute(ifname: string, r: { family: 4 | 6; gateway?: Buffer; destination?: Buffer; prefix?: number }, info: OpInfo): this {
    return this.#push(OP.NET_ROUTE, [0, r.family, r.prefix ?? 0], [ifname, r.gateway ?? '', r.destination ?? ''], info);
  }
}
