/**
 * What each lifecycle hook's taps receive. Contexts grow as features land;
 * fields are only ever added.
 */
import type { ContainerConfig } from '../config/container-config.js';
import type { Logger } from '../log/logger.js';
import type { LxkitError } from '../errors.js';
import type { OpQueue } from '../start/ops.js';
import type { CgroupHandoff } from './drivers.js';

/** The container a hook is about. */
export interface ContainerRef {
  readonly name: string;
  readonly lxcpath: string;
  readonly config: ContainerConfig;
  /** The config file, when the container has one (LXC_CONFIG_FILE). */
  readonly configFile: string | undefined;
}

export interface LifecycleContext {
  readonly container: ContainerRef;
  readonly log: Logger;
}

/** What the container's init will be: taps may adjust it until the `start` batch is sent. */
export interface InitSpec {
  argv: string[];
  env: string[];
  cwd: string;
  uid?: number;
  gid?: number;
  groups?: number[];
  /** `init`: lxkit stays as a small init running argv (application containers, lxkit execute). */
  mode: 'replace' | 'init';
}

/** A detached mount the monitor makes (StartContext.detachedMount). */
export interface DetachedMountOptions {
  /** Mapped into the container's user namespace (idmap=container). */
  readonly idmap: boolean;
  /** A new filesystem of this type on the source, instead of a bind mount. */
  readonly fstype?: string;
  /** The new filesystem's options (`lowerdir=…`, `ro`). */
  readonly options?: readonly string[];
}

/** pre-start … start: the container is being started. */
export interface StartContext extends LifecycleContext {
  /** `system` (lxkit start) or `application` (lxkit execute). */
  readonly kind: 'system' | 'application';
  /**
   * The container's init as seen from the host, once cloned: from start-host
   * on, and in pre-mount … start taps unless the start queues its ops while
   * the monitor clones (the `cloneFirst` hook).
   */
  pid?: number;
  /** Namespaces the container was given: name → path usable from the host while it runs (/proc/<monitor>/fd/<n>), once cloned. */
  namespaces: Record<string, string>;
  /**
   * Which namespaces the container gets (made by its clone, or joined with
   * lxc.namespace.share.*), known from pre-start on: what a tap that queues
   * ops asks, since its ops may be queued before the clone's answer (see the
   * `cloneFirst` hook).
   */
  readonly namespaceNames: ReadonlySet<string>;
  /** Whether the container has its own user namespace (lxc.idmap). */
  readonly userns: boolean;
  /**
   * The root filesystem: `path` as configured (without a type prefix),
   * `mount` where it is mounted, `storage` its backend; undefined: the host's /.
   */
  readonly rootfs: import('../start/prepare.js').StartRootfs | undefined;
  /**
   * Ops for the container's first process. Taps of preMount, mount, autodev
   * and start queue them in order; they are sent to the child in one batch
   * that ends with the init's exec, so that a start costs one round trip
   * instead of one per stage. A tap that needs the ops queued so far to have
   * run (to look at the container's mounts from the host, say) awaits
   * `flush()` first.
   */
  ops: OpQueue;
  /** Has the child run every op queued so far (one round trip); a failing op rejects with its error. */
  flush(): Promise<void>;
  /** The init to exec at the end of the `start` batch. */
  readonly init: InitSpec;
  /** LXC's hook environment (LXC_NAME, LXC_ROOTFS_MOUNT, LXC_PID...), as far as known at this moment. */
  readonly hookEnv: Record<string, string>;
  /**
   * lxc.monitor.unshare: the monitor's own mount namespace (/proc/<monitor>/ns/mnt),
   * set before pre-start, where host-side hook scripts run as LXC runs them
   * in its monitor; undefined: they run in the host's.
   */
  hostMountNamespace?: string;
  /**
   * Asks the monitor (host root) for a detached mount: a bind mount of
   * `source`, or with `fstype` a new filesystem on it; with `idmap` mapped
   * into the container's user namespace. Returns the fd slot to attach with
   * ops.attachTree. For sources the container's ids cannot reach, and
   * filesystems only the host's root may mount.
   */
  detachedMount(source: string, opts: DetachedMountOptions): Promise<number>;
  /** How the storage backend has the root filesystem mounted (set at pre-start by the rootfs plugin). */
  rootfsMount?: import('../storage/backend.js').RootfsMount;
  /** A free fd slot in the container's first process (for ptys and detached mounts). */
  allocateSlot(): number;
  /** The slot holding the console's slave once allocated (stdio of the init). */
  consoleSlot?: number;
  /**
   * The monitor's pid (a cgroup driver moves it into the container's cgroups
   * for the clone, then out), once it runs: the monitor is spawned in the
   * background while pre-start runs.
   */
  monitorPid(): Promise<number>;
  /** Set in pre-start by a cgroup driver: the unified hierarchy's cgroup the first process starts in (CLONE_INTO_CGROUP). */
  cloneIntoCgroup?: string;
  /**
   * Set in pre-start by a cgroup driver that completes the first process's
   * cgroups after the clone (v1 hierarchies have no CLONE_INTO_CGROUP): its
   * cgroup namespace is then made by its first op, once it is in them (as
   * LXC does), instead of by the clone.
   */
  cgroupNamespaceAfterClone?: boolean;
  /**
   * Gives the container's cgroups to the monitor: it removes them when the
   * container is gone, whoever ends it. No reply (the monitor takes them
   * before the clone, whose failure says what went wrong).
   */
  handCgroups(cgroups: CgroupHandoff): void;
  /**
   * A value the start chose for `key` (a veth's generated host name for
   * lxc.net.N.veth.pair): the running container reports it from now on, as
   * LXC's running config does (`lxkit info -c KEY`), and the stop work of a
   * daemon reads it there. Once the monitor runs.
   */
  runtimeConfig(key: string, value: string): void;
  /**
   * A host network device moved into the container (lxc.net.N.type = phys),
   * now named `inside` there: its monitor moves it back to the host as
   * `host` (restoring `mtu` when given) when the container ends, whoever
   * ends it, as LXC gives such devices back.
   */
  giveBackToHost(inside: string, host: string, mtu: number | undefined): void;
  /**
   * A proxy neighbour entry put on the host interface `ifname` for the
   * container (lxc.net.N.l2proxy): its monitor removes it when the container
   * ends, whoever ends it; the interface outlives the container.
   */
  removeProxyAtEnd(ifname: string, family: 4 | 6, address: Buffer): void;
  /** What an attached program is confined with (as the init): filled by the security plugins' start taps. */
  readonly attachConfinement: AttachConfinement;
  /**
   * Set by the seccomp plugin's start tap when the filter has notify rules:
   * the monitor forwards the notifications to `proxy` (LXC's format), or
   * answers ENOSYS without one.
   */
  seccompNotify?: { proxy?: string | undefined; cookie?: string | undefined };
}

/**
 * The confinement an attached program gets (lxkit attach without -e): what
 * the container's init got. The plugins that confine the init fill it in
 * their `start` taps; the monitor keeps it for lxkit-attach.
 */
export interface AttachConfinement {
  /** The capability bounding set (bit N: capability N). */
  caps?: { bounding: bigint };
  /** The AppArmor label to change to. */
  label?: string;
  /** The seccomp BPF program. */
  seccomp?: Buffer;
  /** lxc.no_new_privs: set for attached programs too (also with -e, as LXC does). */
  noNewPrivs?: boolean;
  /** lxc.arch's personality(2): attached programs run with it too (also with -e, as LXC's; -a overrides it). */
  personality?: number;
}

/** stop and post-stop. */
export interface StopContext extends LifecycleContext {
  /** LXC_TARGET: whether the container will be started again. */
  readonly target: 'stop' | 'reboot';
  /**
   * post-stop runs every tap even when some fail (it undoes pre-start); the
   * failures are collected here and raised together afterwards.
   */
  readonly errors: LxkitError[];
  /** The init's pid while it existed, and the namespace paths (still valid during `stop`). */
  readonly pid?: number;
  readonly namespaces: Record<string, string>;
  readonly hookEnv: Record<string, string>;
  /** As StartContext's: where stop and post-stop hook scripts run with lxc.monitor.unshare. */
  readonly hostMountNamespace?: string;
}

export interface CreateContext extends LifecycleContext {
  /** Template name (`-t`), when one is used. */
  readonly template?: string;
  readonly templateArgs: readonly string[];
}

export interface CloneContext extends LifecycleContext {
  /** The container being cloned from. */
  readonly source: ContainerRef;
  /** Extra arguments from `lxkit copy -- …`, passed on to clone hooks. */
  readonly hookArgs: readonly string[];
  /**
   * The new root filesystem: `path` as configured (without its type),
   * `mount` where it is reachable meanwhile: on the host, or in the
   * namespaces below when one is given.
   */
  readonly rootfs: {
    readonly path: string;
    readonly mount: string;
    /**
     * For root copying a rootfs that is a filesystem of its own (an
     * overlay, a loop file, a logical volume): the mount namespace
     * (/proc/PID/ns/mnt) where it is mounted at `mount`, as LXC mounts it
     * for its clone hooks, and nowhere on the host; enter it with nsenter,
     * or reach its files under /proc/PID/root.
     */
    readonly mountNamespace?: string;
    /**
     * For a user other than root copying an unprivileged container: a user
     * and mount namespace with the container's maps (and the user's ids),
     * where LXC runs clone hooks for such a user; `mount` is the rootfs's
     * place there (on the host too only for a directory rootfs: an overlay
     * is mounted there alone). `run` runs a program there as its root.
     */
    readonly userNamespace?: { run(argv: readonly string[], env: Readonly<Record<string, string>>, info: { what: string }): Promise<void> };
  };
}

export type DestroyContext = LifecycleContext;
