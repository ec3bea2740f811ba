/**
 * @lxkit/native: where the helper executables are, and the addon.
 *
 * The helpers are plain executables (no Node inside): lxkit runs them for
 * work a multi-threaded Node process cannot do itself, such as entering new
 * namespaces. The addon offers the few system calls Node lacks that need no
 * new process (flock for the container lock) and starts the helpers
 * (posix_spawn, pidfds).
 */
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Helper executables built from native/src by `npm run setup`. */
export const HELPERS = ['lxkit-probe', 'lxkit-monitor', 'lxkit-attach', 'lxkit-console', 'lxkit-user-nic'] as const;
export type HelperName = (typeof HELPERS)[number];

const BUILD_DIR = fileURLToPath(new URL('../build/Release/', import.meta.url));

function missing(what: string, path: string): Error {
  return Object.assign(new Error(`native ${what} is not built (${path}); run "npm run setup"`), {
    code: 'LXKIT_NATIVE_MISSING',
    path,
  });
}

/** Absolute path of a helper; throws LXKIT_NATIVE_MISSING when it has not been built. */
export function helperPath(name: HelperName): string {
  const path = BUILD_DIR + name;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw missing(`helper ${name}`, path);
  }
  return path;
}

/** One attribute of a device kind's IFLA_INFO_DATA: a mode or an id, of 2 or 4 bytes. */
export interface NetLinkData {
  type: number;
  size: 2 | 4;
  value: number;
}

/** One end of a network device pair, as netVethCreate takes it. */
export interface NetLinkSpec {
  name: string;
  /** 6 bytes. */
  hwaddr?: Buffer;
  mtu?: number;
  /** The bridge to enslave the device to (host side). */
  master?: string;
  /** Bring it up. */
  up?: boolean;
  /** Queue counts, at creation (a veth's). */
  rxQueues?: number;
  txQueues?: number;
}

export interface Addon {
  /** flock(2); throws a Node-style error (EWOULDBLOCK with LOCK_NB when held). */
  flock(fd: number, operation: number): void;
  /** No more callbacks into JavaScript (exit watches and channels let go): at the process's exit. */
  quiesce(): void;
  /** One datagram to the unix socket at `path` (syslog's /dev/log); a Node-style error when it cannot go. */
  sendDatagram(path: string, data: Buffer): void;
  /**
   * A veth pair over rtnetlink: `host` in lxkit's network namespace, `peer`
   * made directly in the network namespace at the path `netns`. A refusal is
   * a Node-style error with syscall 'netlink', the host end's name as `path`
   * and the kernel's own words (extended ack) in `detail`.
   */
  netVethCreate(host: NetLinkSpec, peer: NetLinkSpec, netns: string): void;
  /**
   * A device of `kind` (macvlan, ipvlan, vlan) on the host device `parent`,
   * made directly in the network namespace at the path `netns`; `data` are
   * its kind's IFLA_INFO_DATA attributes. Errors as netVethCreate's.
   */
  netLinkCreate(kind: string, parent: string, dev: NetLinkSpec, netns: string, data: readonly NetLinkData[]): void;
  /** Moves the host device `name` into the network namespace at the path `netns`, renamed and changed as `change` says. */
  netLinkMove(name: string, netns: string, change: NetLinkSpec): void;
  /** A route on the host to destination/prefix through the device `ifname` (scope link): `ip route add DST/PREFIX dev IFNAME`. */
  netRouteAdd(ifname: string, family: 4 | 6, destination: Buffer, prefix: number): void;
  /** A proxy neighbour entry (proxy ARP or NDP) for `address` on `ifname`: `ip neigh add proxy ADDRESS dev IFNAME`. */
  netNeighProxyAdd(ifname: string, family: 4 | 6, address: Buffer): void;
  /** A VLAN of the bridge port `port` added or removed: `bridge vlan add|del vid VID dev PORT` (flags: 2 pvid, 4 untagged). */
  netBridgeVlan(port: string, add: boolean, vid: number, flags: number): void;
  /** The IPv4 and IPv6 addresses of the host interface `name`, whether it is up or not (getifaddrs). */
  interfaceAddresses(name: string): { family: 4 | 6; address: string }[];
  /**
   * The device node `path` (and its parents) beneath `root` (a container's
   * /proc/<pid>/root), replacing what is there; a path that would leave the
   * root fails (EXDEV).
   */
  makeNodeBeneath(root: string, path: string, mode: number, major: number, minor: number): void;
  /** Removes the device node `path` beneath `root`: false when there is none; ENOTBLK when something else is there. */
  removeNodeBeneath(root: string, path: string): boolean;
  /**
   * Loads a cgroup device program (`insns`: struct bpf_insn[]) and attaches it
   * to the cgroup v2 directory `dir` (BPF_F_ALLOW_MULTI); with `replace`, the
   * device programs attached there before are detached after. A refused
   * program throws with the verifier's log in `detail`.
   */
  attachDeviceProgram(dir: string, insns: Buffer, replace?: boolean): void;
  /** setxattr(2). */
  setXattr(path: string, name: string, value: Buffer): void;
  /** getxattr(2); undefined when `path` has no attribute `name`. */
  getXattr(path: string, name: string): Buffer | undefined;
  /** posix_spawn of a helper: fd 3 is one end of a new socketpair (`control` the other), fds[i] becomes 4+i. */
  spawnHelper(path: string, argv: readonly string[], fds: readonly number[]): { pid: number; pidfd: number; control: number };
  /** spawnHelper with posix_spawn on a pool thread: returns `control` at once, calls back once the helper runs (or with the error). */
  spawnHelperAsync(
    path: string,
    argv: readonly string[],
    fds: readonly number[],
    callback: (err: NodeJS.ErrnoException | null, pid?: number, pidfd?: number) => void,
  ): number;
  /** Calls back once the process of `pidfd` has exited and been reaped (closing the pidfd). */
  watchExit(pidfd: number, callback: (code: number, signal: number) => void): void;
  /** The watch of `pidfd` no longer keeps the event loop alive. */
  unrefExit(pidfd: number): void;
  pidfdSendSignal(pidfd: number, signal: number): void;
  /** A connected unix stream socket to an abstract address (name without the leading NUL); throws ECONNREFUSED when nobody listens. */
  connectAbstract(name: string): number;
  /** Whether `fd` is a terminal (without loading node:tty, which loads node:net). */
  isatty(fd: number): boolean;
  /** Watches a stream socket: onData(chunk, 0) for what arrives, then onData(null, errno) once (0: the peer closed); the fd is closed then. */
  channelOpen(fd: number, onData: (chunk: Buffer | null, errno: number) => void): void;
  /** Sends all of `data` (throws a Node-style error, EPIPE when the peer is gone). */
  channelWrite(fd: number, data: Buffer): void;
  /** Stops the watch and closes the fd; no callback follows. */
  channelClose(fd: number): void;
  /** Whether the channel keeps the event loop alive (it does at first). */
  channelRef(fd: number, ref: boolean): void;
  /** A listening unix stream socket on an abstract address, for net.Server.listen({ fd }). */
  listenAbstract(name: string): number;
  readonly constants: { readonly LOCK_SH: number; readonly LOCK_EX: number; readonly LOCK_NB: number; readonly LOCK_UN: number };
}

let addon: Addon | undefined;

export function native(): Addon {
  if (!addon) {
    const path = BUILD_DIR + 'lxkit.node';
    try {
      // process.dlopen rather than require(): no module resolution for a file whose path is known.
      const mod = { exports: {} as Addon };
      process.dlopen(mod, path);
      addon = mod.exports;
      // Before Node frees the environment: see quiesce() in addon.cc.
      const a = addon;
      process.once('exit', () => a.quiesce());
    } catch (err) {
      throw Object.assign(missing('addon', path), { cause: err });
    }
  }
  return addon;
}

/** How a helper process ended: its exit status, or the signal that killed it. */
export interface HelperExit {
  readonly code: number | null;
  readonly signal: number | null;
}

/** A running helper executable started by spawnHelper. */
export interface HelperProcess {
  /** 0 while a helper of startHelper is being spawned. */
  readonly pid: number;
  /** lxkit's end of the control socketpair (the helper's fd 3), for a net.Socket. */
  readonly control: number;
  /** Resolves when the helper has exited (it is reaped then). */
  readonly exited: Promise<HelperExit>;
  /** Whether it has exited and been reaped. */
  readonly gone: boolean;
  /** Sends a signal while it runs (through its pidfd: never to a recycled pid); false once it is gone. */
  kill(signal: number): boolean;
  /** Lets this process exit while the helper runs on (a daemon's monitor). */
  unref(): void;
}

/** A helper started by startHelper, while or after posix_spawn runs. */
export interface StartingHelper extends HelperProcess {
  /** Resolves once the helper runs (its pid known); rejects with posix_spawn's error. */
  readonly started: Promise<void>;
}

/** A stream socket without net.Socket (whose modules cost ~5 ms to load): see openChannel. */
export interface Channel {
  /** Sends `data`; throws when the peer is gone. */
  write(data: Buffer): void;
  /** No more data callbacks; onClose is not called. Idempotent. */
  close(): void;
  /** Lets the process exit while the channel is open (or not, with `true`). */
  ref(keep: boolean): void;
  readonly closed: boolean;
}

/**
 * Reads and writes a stream socket `fd` (a helper's control socket, a
 * monitor's command socket) through the addon's uv_poll. `onData` gets each
 * chunk as it arrives; `onClose` once at the end, with the errno (0: the
 * peer closed). Both run outside the addon's callback, so nothing they throw
 * unwinds through native code. The fd belongs to the channel from now on.
 */
export function openChannel(fd: number, onData: (chunk: Buffer) => void, onClose: (errno: number) => void): Channel {
  const a = native();
  let closed = false;
  a.channelOpen(fd, (chunk, errno) => {
    if (chunk) queueMicrotask(() => closed || onData(chunk));
    else {
      closed = true;
      queueMicrotask(() => onClose(errno));
    }
  });
  return {
    write(data) {
      if (closed) throw Object.assign(new Error('EPIPE: the channel is closed, send'), { code: 'EPIPE', errno: -32, syscall: 'send' });
      a.channelWrite(fd, data);
    },
    close() {
      if (closed) return;
      closed = true;
      a.channelClose(fd);
    },
    ref(keep) {
      if (!closed) a.channelRef(fd, keep);
    },
    get closed() {
      return closed;
    },
  };
}

/** The process side of a helper: its pid and pidfd once it runs, its exit, signals through the pidfd. */
class Helper implements HelperProcess {
  readonly #a: Addon;
  #pid = 0;
  #pidfd = -1;
  #gone = false;
  #signal: number | undefined;
  #unref = false;
  readonly #exited: Promise<HelperExit>;
  #settle!: (e: HelperExit) => void;

  constructor(
    a: Addon,
    readonly control: number,
  ) {
    this.#a = a;
    this.#exited = new Promise<HelperExit>((resolve) => (this.#settle = resolve));
  }

  /** The helper runs as `pid`; the exit is watched through `pidfd` from now on. */
  running(pid: number, pidfd: number): void {
    this.#pid = pid;
    this.#pidfd = pidfd;
    this.#a.watchExit(pidfd, (code, signal) => {
      this.#gone = true;
      // Settled outside the addon's callback, so that nothing thrown by
      // reactions to it unwinds through native code.
      setImmediate(() => this.#settle({ code: signal ? null : code, signal: signal || null }));
    });
    if (this.#signal !== undefined) this.kill(this.#signal);
    if (this.#unref) this.#a.unrefExit(pidfd);
  }

  /** It never ran. */
  failed(): void {
    this.#gone = true;
    this.#settle({ code: null, signal: null });
  }

  get pid(): number {
    return this.#pid;
  }

  get exited(): Promise<HelperExit> {
    return this.#exited;
  }

  get gone(): boolean {
    return this.#gone;
  }

  kill(signal: number): boolean {
    if (this.#gone) return false;
    if (this.#pidfd < 0) {
      // Still being spawned: sent as soon as it runs.
      this.#signal = signal;
      return true;
    }
    try {
      this.#a.pidfdSendSignal(this.#pidfd, signal);
      return true;
    } catch {
      return false;
    }
  }

  unref(): void {
    if (this.#gone) return;
    if (this.#pidfd < 0) this.#unref = true;
    else this.#a.unrefExit(this.#pidfd);
  }
}

/**
 * Starts a helper executable the cheap way: posix_spawn from the addon
 * instead of child_process.spawn, whose fork of the whole Node process costs
 * about 2 ms per container. The helper inherits stdin/stdout/stderr, gets a
 * control socket as fd 3 and `fds` as 4, 5, ...
 */
export function spawnHelper(name: HelperName, opts: { args?: readonly string[]; fds?: readonly number[] } = {}): HelperProcess {
  const path = helperPath(name);
  const a = native();
  const { pid, pidfd, control } = a.spawnHelper(path, [name, ...(opts.args ?? [])], opts.fds ?? []);
  const h = new Helper(a, control);
  h.running(pid, pidfd);
  return h;
}

/**
 * spawnHelper without waiting: posix_spawn holds its caller until the child
 * has exec'd (~0.3–1.5 ms for the monitor), so it runs on a thread of
 * libuv's pool while this process goes on. `control` can be written to at
 * once (the helper reads it when it runs); `pid` is 0 until `started`
 * resolves; a signal sent before then is delivered once it runs. `started`
 * rejects with posix_spawn's error, and the control socket then ends.
 */
export function startHelper(name: HelperName, opts: { args?: readonly string[]; fds?: readonly number[] } = {}): StartingHelper {
  const path = helperPath(name);
  const a = native();
  let settle!: (err: Error | null) => void;
  const started = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
  // A bad fd throws here, before anything runs (as spawnHelper).
  const control = a.spawnHelperAsync(path, [name, ...(opts.args ?? [])], opts.fds ?? [], (err, pid, pidfd) => {
    if (err) h.failed();
    else h.running(pid!, pidfd!);
    settle(err);
  });
  const h = new Helper(a, control);
  // Whoever starts a helper decides what a failure means; it is never an unhandled rejection.
  started.catch(() => undefined);
  return Object.assign(h, { started });
}

/**
 * An empty directory shipped with the package, where a container with a user
 * namespace has its rootfs mounted in its own mount namespace (as LXC's
 * /usr/lib/<arch>/lxc/rootfs): every component of its path is traversable,
 * whatever the container's ids are, unlike most lxcpaths.
 */
export function rootfsMountPoint(): string {
  return fileURLToPath(new URL('../rootfs/', import.meta.url)).replace(/\/$/, '');
}
