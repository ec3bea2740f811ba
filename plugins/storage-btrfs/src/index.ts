/**
 * @lxkit/plugin-storage-btrfs: `btrfs:PATH` root filesystems, as LXC's
 * btrfs storage: a subvolume per container (`<dir>/rootfs`), copies and
 * snapshots as subvolume snapshots on the same filesystem (a copy to
 * another filesystem goes through the core's rsync), and a destroy that
 * deletes nested subvolumes too (a container that made its own, as
 * systemd-nspawn or docker inside do). Tools: btrfs-progs' `btrfs`.
 *
 * `-B best` picks btrfs when the lxcpath is on a btrfs filesystem.
 */
import { lstatSync, statfsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { definePlugin, isAtOrAbove, isDirectory, LxkitError, removeStorageDirectory, storageTool, VERSION, type StorageBackend, type StorageTarget } from '@lxkit/core';

const BTRFS_SUPER_MAGIC = 0x9123683e;
/** The inode number of every subvolume's root directory. */
const SUBVOLUME_ROOT_INODE = 256;

function onBtrfs(path: string): boolean {
  try {
    return statfsSync(path).type === BTRFS_SUPER_MAGIC;
  } catch {
    return false;
  }
}

function existingAncestor(path: string): string {
  let p = path;
  while (!isDirectory(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

/** Whether `path` is the root of a btrfs subvolume. */
export function isSubvolume(path: string): boolean {
  try {
    return lstatSync(path).ino === SUBVOLUME_ROOT_INODE && onBtrfs(path);
  } catch {
    return false;
  }
}

const btrfs = (args: readonly string[], what: string, t: StorageTarget, path: string) => storageTool('btrfs', args, { what, container: t.name, path });

/** Subvolumes nested in `path`, deepest first (found only when a delete says there are some). */
async function nestedSubvolumes(path: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      await walk(p);
      if (isSubvolume(p)) found.push(p);
    }
  };
  await walk(path);
  return found;
}

async function deleteSubvolume(path: string, t: StorageTarget): Promise<void> {
  try {
    await btrfs(['subvolume', 'delete', path], `deleting the subvolume ${path}`, t, path);
  } catch (err) {
    const nested = await nestedSubvolumes(path);
    if (nested.length === 0) throw err;
    for (const n of nested) await btrfs(['subvolume', 'delete', n], `deleting the nested subvolume ${n}`, t, n);
    await btrfs(['subvolume', 'delete', path], `deleting the subvolume ${path}`, t, path);
  }
}

export const btrfsBackend: StorageBackend = {
  type: 'btrfs',
  capabilities: { snapshot: true, clone: true, directory: true },
  // The lxcpath may not exist yet: the filesystem it will be on.
  best: async (lxcpath) => onBtrfs(existingAncestor(lxcpath)),
  detect: isSubvolume,
  missing: (source) => (isDirectory(source) ? undefined : source),
  async create(req) {
    await mkdir(dirname(req.rootfs), { recursive: true, mode: 0o755 });
    if (!onBtrfs(dirname(req.rootfs))) {
      throw new LxkitError('LXKIT_UNSUPPORTED', `cannot make a btrfs root filesystem for container "${req.name}": ${dirname(req.rootfs)} is not on a btrfs filesystem`, {
        container: req.name,
        path: req.rootfs,
      });
    }
    await btrfs(['subvolume', 'create', req.rootfs], 'making the root filesystem subvolume', req, req.rootfs);
    return req.rootfs;
  },
  async clone(req) {
    // A subvolume snapshot is a full, independent copy: LXC makes one for a copy on the same filesystem too.
    const sameFs = req.from.type === 'btrfs' && isSubvolume(req.from.source) && onBtrfs(dirname(req.rootfs));
    if (!sameFs) {
      if (req.snapshot && !req.orCopy) {
        throw new LxkitError('LXKIT_UNSUPPORTED', `cannot make a btrfs snapshot of container "${req.from.container.name}": its root filesystem ${req.from.source} is not a btrfs subvolume on the filesystem of ${dirname(req.rootfs)}`, {
          container: req.from.container.name,
        });
      }
      return undefined;
    }
    await mkdir(dirname(req.rootfs), { recursive: true, mode: 0o755 });
    try {
      await btrfs(['subvolume', 'snapshot', req.from.source, req.rootfs], `snapshotting ${req.from.source}`, req, req.rootfs);
    } catch (err) {
      // Another btrfs filesystem: a copy goes through rsync, a snapshot cannot be (lxkit snapshot takes a copy).
      if ((req.snapshot && !req.orCopy) || !/cross-device|Invalid cross/i.test(String((err as Error).message))) throw err;
      return undefined;
    }
    return req.rootfs;
  },
  mount: async (source) => ({ kind: 'bind', path: source }),
  open: async (source) => ({ path: source, close: async () => undefined }),
  async destroy(source, t) {
    if (isAtOrAbove(source, t.dir)) return;
    if (isSubvolume(source)) await deleteSubvolume(source, t);
    // Not a subvolume (made by hand, or by another tool): a directory like dir's.
    else await removeStorageDirectory(source, t.dir);
  },
  directories: (source) => [source],
};

export default definePlugin({
  name: 'storage-btrfs',
  version: VERSION,
  replayable: true,
  lxkit: `^${VERSION}`,
  apply(runtime) {
    runtime.hooks.storage.for('btrfs').tap('storage-btrfs', () => btrfsBackend);
  },
});
