/**
 * Implementations selected by type through the hook bus's HookMaps:
 * `hooks.storage.for('btrfs')`, `hooks.network.for('veth')`,
 * `hooks.cgroupDriver.for('systemd')`. A plugin taps the map entry and
 * returns its implementation; the first tap that returns one wins (a site
 * plugin can override a built-in by tapping at an earlier stage).
 *
 * These are the selection contracts; each feature's issue adds the operations
 * its implementations carry.
 */

/** A storage backend: one record of operations per type, with capability flags (LXC's storage ops table). */
export type { StorageBackend } from '../storage/backend.js';

/** A network type (lxc.net.N.type). */
export interface NetworkType {
  readonly type: string;
}

/**
 * A cgroup driver (cgroupfs, systemd, cgmanager): makes a starting
 * container's cgroups. Whatever the driver, the result is cgroupfs
 * directories, handed to the monitor (`StartContext.handCgroups`), which
 * freezes them, answers where they are, and removes them at the end.
 */
export interface CgroupDriver {
  readonly name: string;
  /**
   * pre-start: the container's cgroups, or as many as the clone needs
   * (`cloneIntoCgroup` for the unified hierarchy; `cgroupNamespaceAfterClone`
   * when the rest comes after), handed to the monitor.
   */
  prepare(ctx: import('./contexts.js').StartContext): Promise<void>;
  /** While the monitor clones: the rest of the cgroups, handed over too; limits and device rules applied. */
  cloning?(ctx: import('./contexts.js').StartContext): Promise<void>;
  /**
   * start-host: the first process is in every cgroup of the container
   * before any op of it runs (cloned into it, moved by the driver, or by the
   * monitor with `enterFirstProcess`); the monitor moves to a cgroup of its
   * own (unless the hand-over left that to the monitor).
   */
  placed(ctx: import('./contexts.js').StartContext): Promise<void>;
  /**
   * Why placed() has work at this start (after prepare), or undefined: with
   * none, the first process need not wait for start-host (the `cloneFirst`
   * hook). A driver without this method is taken to have some at every start.
   */
  placedWork?(ctx: import('./contexts.js').StartContext): string | undefined;
  /** Where the container's cgroups are (after prepare), for the cgroup mounts; undefined: it has none. */
  placement(ctx: import('./contexts.js').StartContext): readonly CgroupPlacement[] | undefined;
}

/** The container's cgroup in one hierarchy. */
export interface CgroupPlacement {
  readonly version: 1 | 2;
  /** v1: the hierarchy's controllers (`name=systemd` for a named one); v2: cgroup.controllers. */
  readonly controllers: readonly string[];
  /** Where the hierarchy is mounted on the host. */
  readonly mountpoint: string;
  /** The container's cgroup (limits). */
  readonly limit: string;
  /** The init's cgroup (below `limit` with lxc.cgroup.dir.container.inner). */
  readonly init: string;
}

/** The container's cgroups as the monitor holds them (native/src/monitor/cgroup.c). */
export interface CgroupHandoff {
  /** One per hierarchy: the container's cgroup (`limit`) and the init's (`init`; below it with lxc.cgroup.dir.container.inner). */
  readonly payload: readonly { readonly version: 1 | 2; readonly controllers: readonly string[]; readonly limit: string; readonly init: string }[];
  /** The monitor's own cgroups made by the driver (which moves the monitor in), and where it goes back to before removing them. */
  readonly monitor: readonly { readonly dir: string; readonly back: string }[];
  /**
   * Or the monitor's own cgroups for the monitor to make and enter by
   * itself once the container runs, off the start's path: `name` below each
   * hierarchy's `base`, else `name-1`, `name-2`… (up to `tries` names, one
   * suffix for all); `back` is where it goes before removing them.
   */
  readonly monitorLater?: {
    readonly name: string;
    readonly tries: number;
    readonly hierarchies: readonly { readonly version: 1 | 2; readonly cpuset: boolean; readonly base: string; readonly back: string }[];
  };
  /**
   * Cgroups the monitor puts the first process in when it gets this
   * hand-over (sent while it clones: it comes after the clone and before the
   * first batch, which fails with the error if a move did).
   */
  readonly enterFirstProcess?: readonly string[];
}

/** What a template is given to make a container (lxkit create -t NAME -- ARGS). */
export interface TemplateRequest {
  readonly name: string;
  readonly lxcpath: string;
  /** The container's directory (<lxcpath>/<name>), already created. */
  readonly dir: string;
  /** Where the root filesystem goes (<lxcpath>/<name>/rootfs), already created and empty. */
  readonly rootfs: string;
  /** Arguments after `--`. */
  readonly args: readonly string[];
  /** The container's config being written: the template adds its keys (set/append). */
  readonly config: import('../config/document.js').ConfigDocument;
  readonly log: import('../log/logger.js').Logger;
  /** Whether a plugin is enabled: a template writes only keys that some enabled plugin reads. */
  hasPlugin(name: string): boolean;
  /** Text for the person who made the container (an image's create message): the CLI prints it, the library logs it (NOTICE). */
  say(text: string): void;
  /**
   * Asks the person making the container (`question` ends in a newline, as
   * LXC's templates print it) and resolves with the answer's line; undefined
   * when nobody can answer (the CLI without a terminal on stdin, the library
   * without CreateOptions.onQuestion): the template then fails saying what it needs.
   */
  ask(question: string): Promise<string | undefined>;
}

/** A template (`hooks.template.for(name)`): fills a new container's rootfs and config. */
export interface Template {
  readonly name: string;
  /** One line for `lxkit create --help`. */
  readonly description: string;
  create(request: TemplateRequest): Promise<void>;
}

/** A running container's processes to write to disk (lxkit checkpoint, lxc-checkpoint). */
export interface CheckpointDump {
  readonly container: import('./contexts.js').ContainerRef;
  readonly log: import('../log/logger.js').Logger;
  /** Where the images go (made, mode 0700, when missing). */
  readonly directory: string;
  /** The processes end once written (lxc-checkpoint -s); otherwise they go on running. */
  readonly stop: boolean;
  /** Only the memory, for a later dump to start from (lxc-checkpoint's pre-dump): the processes go on. */
  readonly preDump: boolean;
  /** An earlier pre-dump's directory, relative to `directory` or absolute (lxc-checkpoint -p). */
  readonly previous?: string;
  /** The checkpointer says everything it does, in its own log (lxc-checkpoint -v). */
  readonly verbose: boolean;
  /** A script the checkpointer runs at each of its stages (lxc-checkpoint -A; criu's --action-script). */
  readonly actionScript?: string;
  /** Where the memory pages go instead of into `directory`: a page server (criu page-server) at this address and port. */
  readonly pageServer?: { readonly address: string; readonly port: number };
  /** The restore will be onto the same filesystem, with the same inodes (LXC's preserves_inodes). */
  readonly preservesInodes: boolean;
  /** Dump even while connections are half-open (criu's --skip-in-flight). */
  readonly skipInFlight: boolean;
  /** Bytes of deleted files still held that go into the images (criu's --ghost-limit); undefined: the checkpointer's default. */
  readonly ghostLimit?: number;
  /** The container's init as the host sees it. */
  readonly pid: number;
  /** The container's cgroups, one per hierarchy (absolute directories). */
  readonly cgroups: readonly { readonly version: 1 | 2; readonly controllers: readonly string[]; readonly limit: string; readonly init: string }[];
  /** The container's root filesystem on the host, where it is a directory there (dir, btrfs, zfs). */
  readonly rootfs: string | undefined;
}

/** A pty a restored container gets in place of a checkpointed one: its console, or its tty `index`. */
export interface RestorePty {
  readonly kind: 'console' | 'tty';
  /** The tty's number (1 for /dev/tty1); 0 for the console. */
  readonly index: number;
}

/** A pty opened for a restore: its slave's path on the host, and the fd the restorer gets it at. */
export interface OpenedPty extends RestorePty {
  readonly path: string;
  readonly fd: number;
}

/** A container to bring back from a checkpoint (lxkit checkpoint -r). */
export interface CheckpointRestore {
  readonly container: import('./contexts.js').ContainerRef;
  readonly log: import('../log/logger.js').Logger;
  readonly directory: string;
  readonly verbose: boolean;
  readonly actionScript?: string;
  /** The root filesystem the restored processes see, a directory on the host. */
  readonly rootfs: string;
  /** The cgroups made for the restored container (pre-start), one per hierarchy. */
  readonly cgroups: readonly { readonly version: 1 | 2; readonly controllers: readonly string[]; readonly limit: string; readonly init: string }[];
  /** Sets a key of the running container's config (StartContext.runtimeConfig): a host end's name the restorer picked. */
  runtimeConfig(key: string, value: string): void;
  /**
   * Ptys of the host in place of the checkpointed console and ttys (whose
   * masters were the old monitor's): the new monitor keeps their masters as
   * a start's — the console drained into its log and buffer, the ttys lent
   * to `lxkit console` — and the restorer gets each slave at its `fd`
   * (3, 4, … in the order asked). At most once, before `restorer` returns.
   */
  openPtys(ptys: readonly RestorePty[]): Promise<readonly OpenedPty[]>;
}

/**
 * What a migration may rely on (LXC's MIGRATE_FEATURE_CHECK): `mem-track`,
 * tracking the memory written since a pre-dump (criu's mem_dirty_track);
 * `lazy-pages`, restoring before every page has arrived (criu's uffd-noncoop).
 */
export type CheckpointFeature = 'mem-track' | 'lazy-pages';

/**
 * What checkpoints and restores containers (`hooks.checkpointer`; the criu
 * plugin). The core runs a restore as a start: pre-start taps (cgroups,
 * storage, LSM profiles) and cloning taps run, then the monitor runs the
 * restorer instead of cloning, holds the restored init as its child, and
 * the container's end is a cloned container's.
 */
export interface Checkpointer {
  readonly name: string;
  /** Why this container cannot be checkpointed and restored by it (a config key it cannot carry), or undefined. */
  unsupported(config: import('../config/container-config.js').ContainerConfig): string | undefined;
  /** Writes the running container's processes to `req.directory`. */
  dump(req: CheckpointDump): Promise<void>;
  /**
   * The program the monitor runs to restore: it must make the restored init
   * its own sibling (the monitor's child) and write the init's pid to `pidFile`.
   */
  restorer(req: CheckpointRestore): Promise<{ readonly argv: readonly string[]; readonly pidFile: string }>;
  /** After a restore, with the init running: what the restorer left undone. */
  restored?(req: CheckpointRestore & { readonly pid: number; readonly namespaces: Readonly<Record<string, string>> }): Promise<void>;
  /** After every restore, whether it succeeded or not: what `restorer` changed for it is put back. */
  restoreEnded?(req: CheckpointRestore): Promise<void>;
  /** Which of `features` this host cannot give (LXC's MIGRATE_FEATURE_CHECK); undefined: the checkpointer cannot tell. */
  unsupportedFeatures?(features: readonly CheckpointFeature[]): Promise<CheckpointFeature[]>;
  /** What the restorer's own log says of a failed restore (its last errors), for the error lxkit reports; undefined: nothing more. */
  restoreFailed?(req: CheckpointRestore): Promise<string | undefined>;
}
