/**
 * @lxkit/plugin-storage-overlay: `overlay:LOWER[:LOWER2…]:UPPER` root
 * filesystems (also spelled `overlayfs:`), as LXC's overlay storage:
 *
 * - a snapshot clone of a dir (or btrfs) container is an overlay whose lower
 *   layer is the origin's rootfs and whose upper layer is the clone's
 *   `<dir>/overlay/delta` (work directory `<dir>/overlay/work`);
 * - a snapshot of an overlay container shares its lower layers and gets a
 *   copy of its upper one;
 * - `-B overlay` at create: the template fills `<dir>/rootfs`, the lower
 *   layer, through the mounted overlay; changes go to the delta.
 *
 * Only snapshots: a full copy of an overlay container goes to another type
 * (lxc-copy -B dir), as LXC refuses an overlay copy without -s.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  copyRootfs,
  definePlugin,
  isDirectory,
  LxkitError,
  mountOnHost,
  removeStorageDirectory,
  VERSION,
  type StorageBackend,
  type StorageTarget,
} from '@lxkit/core';

export interface OverlayLayers {
  /** Lower layers, uppermost first (overlayfs' lowerdir order). */
  readonly lowers: readonly string[];
  readonly upper: string;
}

/** `lower[:lower2…]:upper`, as LXC splits it. */
export function parseLayers(source: string, container = ''): OverlayLayers {
  const parts = source.split(':');
  if (parts.length < 2 || parts.some((p) => p === '')) {
    throw new LxkitError('LXKIT_CONFIG_INVALID', `lxc.rootfs.path = overlay:${source}: an overlay rootfs is overlay:LOWER:UPPER (directories, colon-separated)`, {
      key: 'lxc.rootfs.path',
      ...(container ? { container } : {}),
    });
  }
  return { lowers: parts.slice(0, -1), upper: parts[parts.length - 1]! };
}

/** The work directory overlayfs needs, beside the upper layer (LXC's `dirname(upper)/work`). */
export const workDir = (upper: string): string => join(dirname(upper), 'work');

/** The options of the overlay mount. */
function mountOptions(l: OverlayLayers): string[] {
  return [`lowerdir=${l.lowers.join(':')}`, `upperdir=${l.upper}`, `workdir=${workDir(l.upper)}`];
}

/** The upper and work directories, made when missing (LXC makes them at mount too). */
async function prepare(l: OverlayLayers): Promise<void> {
  await mkdir(l.upper, { recursive: true, mode: 0o755 });
  await mkdir(workDir(l.upper), { recursive: true, mode: 0o755 });
}

/** A new container's delta (upper layer) and work directory, and the empty rootfs directory LXC makes beside them. */
async function newDelta(t: StorageTarget): Promise<string> {
  const delta = join(t.dir, 'overlay', 'delta');
  await mkdir(delta, { recursive: true, mode: 0o755 });
  await mkdir(workDir(delta), { recursive: true, mode: 0o755 });
  await mkdir(join(t.dir, 'rootfs'), { recursive: true, mode: 0o755 });
  return delta;
}

export const overlayBackend: StorageBackend = {
  type: 'overlay',
  aliases: ['overlayfs'],
  capabilities: { snapshot: true, clone: true, directory: false },
  missing(source) {
    const l = parseLayers(source);
    return l.lowers.find((p) => !isDirectory(p));
  },
  async create(req) {
    await mkdir(req.rootfs, { recursive: true, mode: 0o755 });
    const delta = join(req.dir, 'overlay', 'delta');
    await mkdir(delta, { recursive: true, mode: 0o755 });
    return `${req.rootfs}:${delta}`;
  },
  async clone(req) {
    if (!req.snapshot) {
      throw new LxkitError(
        'LXKIT_UNSUPPORTED',
        `cannot copy container "${req.from.container.name}" as an overlay: overlay storage makes only snapshots (-s); copy it with -B dir or another type`,
        { container: req.from.container.name },
      );
    }
    if (req.from.backend.capabilities.directory) return `${req.from.source}:${await newDelta(req)}`;
    if (req.from.type === 'overlay') {
      const l = parseLayers(req.from.source, req.from.container.name);
      const delta = await newDelta(req);
      await copyRootfs(l.upper, delta, { container: req.name, log: req.log });
      return `${l.lowers.join(':')}:${delta}`;
    }
    throw new LxkitError('LXKIT_UNSUPPORTED', `cannot make an overlay snapshot of container "${req.from.container.name}": its ${req.from.type} root filesystem is not a directory on the host`, {
      container: req.from.container.name,
    });
  },
  async mount(source, t) {
    const l = parseLayers(source, t.name);
    await prepare(l);
    // The upper and work directories share a parent: given idmapped as one layer, they stay on one mount, as overlayfs needs.
    return { kind: 'filesystem', fstype: 'overlay', source: 'overlay', options: mountOptions(l), layers: [...l.lowers, dirname(l.upper)], makeDirectories: [l.upper, workDir(l.upper)] };
  },
  async open(source, t) {
    const l = parseLayers(source, t.name);
    await prepare(l);
    return mountOnHost({ fstype: 'overlay', source: 'overlay', options: mountOptions(l), container: t.name });
  },
  async destroy(source, t) {
    // The upper layer is the container's; lower layers belong to their origin.
    const l = parseLayers(source, t.name);
    await removeStorageDirectory(l.upper, t.dir);
    await removeStorageDirectory(workDir(l.upper), t.dir);
  },
  directories: (source) => [parseLayers(source).upper, workDir(parseLayers(source).upper)],
};

export default definePlugin({
  name: 'storage-overlay',
  version: VERSION,
  replayable: true,
  lxkit: `^${VERSION}`,
  apply(runtime) {
    runtime.hooks.storage.for('overlay').tap('storage-overlay', () => overlayBackend);
    runtime.hooks.storage.for('overlayfs').tap('storage-overlay', () => overlayBackend);
  },
});
