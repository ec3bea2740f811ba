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
}

/** A template (`hooks.template.for(name)`): fills a new container's rootfs and config. */
export interface Template {
  readonly name: string;
  /** One line for `lxkit create --help`. */
  readonly description: string;
  create(request: TemplateRequest): Promise<void>;
}
