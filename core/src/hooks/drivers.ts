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
export interface StorageBackend {
  /** The type as written in lxc.rootfs.path (`btrfs:`, `zfs:`...). */
  readonly type: string;
  readonly capabilities: {
    /** Can make a copy-on-write snapshot of a rootfs. */
    readonly snapshot: boolean;
    /** Can clone a container's rootfs into a new one itself (without rsync). */
    readonly clone: boolean;
  };
}

/** A network type (lxc.net.N.type). */
export interface NetworkType {
  readonly type: string;
}

/** A cgroup driver (cgroupfs, systemd, cgmanager). */
export interface CgroupDriver {
  readonly name: string;
}
