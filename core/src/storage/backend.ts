/**
 * The storage contract: one record of operations per rootfs type, with
 * capability flags (LXC's storage ops table, src/lxc/storage/). A backend
 * is selected through `hooks.storage.for(type)`; the core's `dir` is one
 * like any other, and plugins add btrfs, overlay, loop, zfs, lvm.
 *
 * A backend speaks in `source`s: lxc.rootfs.path without its `type:` prefix
 * (`/var/lib/lxc/c1/rootfs`, `/lower:/upper`, `pool/lxc/c1`). The core turns
 * them into config values, runs rsync for copies a backend does not make
 * itself, and keeps the containers' records (snapshots, clones).
 */
import type { Logger } from '../log/logger.js';

/** The container whose storage an operation is about. */
export interface StorageTarget {
  readonly name: string;
  readonly lxcpath: string;
  /** `<lxcpath>/<name>`. */
  readonly dir: string;
  readonly log: Logger;
}

/** lxc-create's storage options (all optional; each backend says which it reads). */
export interface StorageOptions {
  /** --fssize, in bytes: the size of a new block device or file (loop, lvm; zfs and btrfs ignore it). */
  readonly fssize?: number;
  /** --fstype: the filesystem made on a new block device or file (ext4 by default). */
  readonly fstype?: string;
  /** --zfsroot: the dataset new containers' datasets go below. */
  readonly zfsroot?: string;
  /** --vgname, --lvname, --thinpool (lvm). */
  readonly vgname?: string;
  readonly lvname?: string;
  readonly thinpool?: string;
}

export interface StorageCreateRequest extends StorageTarget {
  /** Where a directory-like root filesystem goes: `--dir`, else `<dir>/rootfs`. */
  readonly rootfs: string;
  readonly options: StorageOptions;
}

/** What a clone starts from: the source container's rootfs. */
export interface StorageOrigin {
  readonly type: string;
  readonly source: string;
  readonly backend: StorageBackend;
  readonly container: StorageTarget;
}

export interface StorageCloneRequest extends StorageCreateRequest {
  readonly from: StorageOrigin;
  /** A copy-on-write snapshot (lxc-copy -s, lxc-snapshot), not an independent copy. */
  readonly snapshot: boolean;
  /**
   * A copy will do where this source cannot be snapshotted (lxc-snapshot and
   * its restore, which take copies of what makes no snapshots): clone() then
   * resolves undefined and the core copies it.
   */
  readonly orCopy: boolean;
}

/**
 * How a start mounts the root filesystem:
 * - `bind`: the directory `path` (dir, btrfs);
 * - `filesystem`: a new mount of `fstype` on `source` with `options`
 *   (overlay, a loop device's filesystem). With `hostRoot`, only the host's
 *   root may make it (a block device): the monitor does. `mounted`, when
 *   given, runs once it is mounted (a loop device let go to autoclear).
 */
export type RootfsMount =
  | { readonly kind: 'bind'; readonly path: string }
  | {
      readonly kind: 'filesystem';
      readonly fstype: string;
      readonly source: string;
      readonly options: readonly string[];
      readonly hostRoot?: boolean;
      readonly mounted?: () => Promise<void>;
      /**
       * Host directories the options name (an overlay's layers). A
       * filesystem that cannot be an idmapped mount itself takes them
       * idmapped instead, for lxc.rootfs.options idmap=container.
       */
      readonly layers?: readonly string[];
      /**
       * Directories made, when missing, in the container's mount namespace
       * just before its first process mounts the filesystem: an overlay's
       * upper and work directories, which a pre-mount hook may have covered
       * with a fresh tmpfs (lxc-copy -t).
       */
      readonly makeDirectories?: readonly string[];
    };

/** A rootfs made reachable on the host for a template, a copy or a clone hook: `path`, until close(). */
export interface OpenedRootfs {
  readonly path: string;
  close(): Promise<void>;
}

export interface StorageBackend {
  /** The type as written in lxc.rootfs.path (`btrfs`, `overlay`...). */
  readonly type: string;
  /** Other names of the type (`overlayfs`). */
  readonly aliases?: readonly string[];
  readonly capabilities: {
    /** Can make a copy-on-write snapshot of a rootfs (lxc-copy -s, lxc-snapshot). */
    readonly snapshot: boolean;
    /** Can clone a rootfs itself (`clone`), instead of the core's create + rsync. */
    readonly clone: boolean;
    /** Its rootfs is a plain directory on the host (dir, btrfs): bind-mounted, and usable as an overlay's lower layer. */
    readonly directory: boolean;
  };
  /** Whether `-B best` picks this backend for a container in `lxcpath` (LXC tries btrfs, zfs, lvm, then dir). */
  best?(lxcpath: string, options: StorageOptions): Promise<boolean>;
  /** Whether a type-less lxc.rootfs.path is this backend's (LXC probes in its order: dir, zfs, lvm, btrfs, overlay, loop). */
  detect?(source: string): boolean;
  /** Before a start: the path that is missing or wrong, or undefined when the rootfs is there. Synchronous: it is on every start's path. */
  missing(source: string): string | undefined;
  /** Makes empty storage for a new container; resolves with its source. */
  create(req: StorageCreateRequest): Promise<string>;
  /**
   * Makes a new container's storage from `req.from` (a snapshot when
   * `req.snapshot`); resolves with its source, or undefined to have the
   * core create it and copy the files. Called when `capabilities.clone`,
   * and for every snapshot (a backend refuses what it cannot snapshot,
   * unless `req.orCopy`).
   */
  clone?(req: StorageCloneRequest): Promise<string | undefined>;
  /** At pre-start, on the host: how the start mounts it. */
  mount(source: string, target: StorageTarget): Promise<RootfsMount>;
  /** Makes it reachable on the host (a template fills it, a copy reads it). */
  open(source: string, target: StorageTarget): Promise<OpenedRootfs>;
  /** Removes it (lxc-destroy). What is inside the container's directory goes with it anyway. */
  destroy(source: string, target: StorageTarget): Promise<void>;
  /**
   * Host directories holding the container's files, which a user other than
   * root removes from inside a user namespace with the container's maps
   * (before destroy()).
   */
  directories?(source: string): readonly string[];
}
