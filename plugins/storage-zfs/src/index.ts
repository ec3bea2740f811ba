/**
 * @lxkit/plugin-storage-zfs: `zfs:DATASET` root filesystems, as LXC's zfs
 * storage: a dataset per container (`<zfsroot>/<name>`; --zfsroot, else
 * lxc.bdev.zfs.root, else `lxc`) made with its mountpoint at `<dir>/rootfs`
 * and canmount=noauto, so that nothing but lxkit mounts it. A copy is a new
 * dataset beside the source's, filled by rsync; a snapshot (lxkit copy -s,
 * lxkit snapshot) is `zfs snapshot` plus `zfs clone`. Works with OpenZFS and
 * with zfs-fuse.
 *
 * Mounting: LXC mounts a dataset with mount(2) type `zfs` (OpenZFS's
 * zfsutil) straight into the container; zfs-fuse has no such filesystem
 * type, only `zfs mount`, which mounts a dataset at its mountpoint on the
 * host. lxkit does that with either: a start mounts the dataset at its
 * mountpoint unless it is mounted already, and the container's root is a
 * bind of it; the post-stop unmounts it again when it is canmount=noauto
 * (lxkit's to mount). That is stop work: a daemon's end runs lxkit's.
 *
 * Destroying: ZFS keeps a dataset whose snapshots others are cloned from
 * (its lxkit snapshots, copy -s clones). The newest such clone is promoted
 * (`zfs promote`), which hands it the snapshots the clones need, so a
 * restore over the container, or the destroy of a clone's origin, keeps
 * every clone. A clone's origin snapshot goes with it once nothing else is
 * cloned from it, as with LXC.
 *
 * Naming: a container's snapshot N is `<parent>/<container>_snapN`, where
 * LXC's collide (see the core's cloneStorageName).
 */
import { mkdir } from 'node:fs/promises';
import {
  cloneStorageName,
  copyOfForeign,
  copyStorage,
  definePlugin,
  LxkitError,
  notReplayable,
  storageOf,
  VERSION,
  type OpenedRootfs,
  type StorageBackend,
  type StorageCloneRequest,
  type StorageTarget,
} from '@lxkit/core';
import { datasets, isDataset, requireDataset, snapshotsOf, zfs, type Dataset } from './datasets.js';

/** LXC's default lxc.bdev.zfs.root. */
const DEFAULT_ROOT = 'lxc';

/** Mounts `d` at its mountpoint unless it is mounted; says where, and whether this call mounted it. */
async function mountDataset(d: Dataset, t: StorageTarget): Promise<{ path: string; mountedNow: boolean }> {
  if (!d.mountpoint.startsWith('/')) {
    throw new LxkitError(
      'LXKIT_UNSUPPORTED',
      `the zfs dataset ${d.name} of container "${t.name}" has mountpoint=${d.mountpoint}: lxkit mounts a zfs root filesystem at its mountpoint (zfs set mountpoint=${t.dir}/rootfs ${d.name})`,
      { container: t.name, path: d.name },
    );
  }
  if (d.mounted) return { path: d.mountpoint, mountedNow: false };
  await mkdir(d.mountpoint, { recursive: true, mode: 0o755 });
  await zfs(['mount', d.name], `mounting the zfs dataset ${d.name}`, t, d.name);
  return { path: d.mountpoint, mountedNow: true };
}

async function openDataset(name: string, t: StorageTarget): Promise<OpenedRootfs> {
  const { path, mountedNow } = await mountDataset(await requireDataset(name, t), t);
  const close = async () => void (mountedNow && (await zfs(['unmount', name], `unmounting the zfs dataset ${name}`, t, name)));
  return { path, close };
}

/** Destroys a dataset (see the module comment on clones of its snapshots, and its origin). */
async function removeDataset(name: string, t: StorageTarget): Promise<void> {
  let all = await datasets(t);
  if (!all.has(name)) {
    t.log.warn(`the zfs dataset ${name} of container "${t.name}" is gone already`);
    return;
  }
  const dependents = [...all.values()].filter((d) => d.origin?.startsWith(`${name}@`));
  if (dependents.length > 0) {
    // Promoting the clone of the newest snapshot hands it every older one too: nothing is cloned from `name` then.
    const order = await snapshotsOf(name, t);
    const newest = dependents.sort((a, b) => order.indexOf(b.origin!) - order.indexOf(a.origin!))[0]!;
    t.log.info(`zfs: promoting ${newest.name}, which is cloned from ${newest.origin}, so that ${name} can go`);
    await zfs(['promote', newest.name], `promoting the zfs clone ${newest.name} of a snapshot of ${name}`, t, newest.name);
    all = await datasets(t);
  }
  const d = all.get(name)!;
  // OpenZFS's destroy unmounts first; zfs-fuse's says the dataset is busy.
  if (d.mounted) await zfs(['unmount', name], `unmounting the zfs dataset ${name}`, t, name);
  const origin = d.origin;
  await zfs(['destroy', '-r', name], `destroying the zfs dataset ${name}`, t, name);
  if (origin && ![...all.values()].some((d) => d.name !== name && d.origin === origin)) {
    await zfs(['destroy', origin], `destroying the snapshot ${origin} that ${name} was cloned from`, t, origin);
  }
}

/** Where a copy or snapshot of a zfs container goes: beside its source (else under the zfsroot), named as the module comment says. */
function newDataset(req: StorageCloneRequest): string {
  const from = req.from.source;
  const parent = from.includes('/') ? from.slice(0, from.lastIndexOf('/')) : (req.options.zfsroot ?? DEFAULT_ROOT);
  return `${parent}/${cloneStorageName(req)}`;
}

const createArgs = (dataset: string, mountpoint: string) => ['create', '-o', `mountpoint=${mountpoint}`, '-o', 'canmount=noauto', '-p', dataset];

export const zfsBackend: StorageBackend = {
  type: 'zfs',
  capabilities: { snapshot: true, clone: true, directory: false },
  // LXC's best tries to make the dataset; it can when the zfsroot's pool is there.
  best: async (_lxcpath, options) => isDataset((options.zfsroot ?? DEFAULT_ROOT).split('/')[0]!),
  detect: isDataset,
  // zfs is asked whether the dataset exists by mount(), which every start awaits anyway.
  missing: () => undefined,
  async create(req) {
    const dataset = `${req.options.zfsroot ?? DEFAULT_ROOT}/${req.name}`;
    await zfs(createArgs(dataset, req.rootfs), `making the zfs dataset ${dataset}`, req, dataset);
    await mkdir(req.rootfs, { recursive: true, mode: 0o755 });
    return dataset;
  },
  async clone(req) {
    // The core makes the dataset (under the zfsroot) and copies the files into it.
    if (req.from.type !== 'zfs') return copyOfForeign(req, { snapshotOf: 'a zfs snapshot', notA: 'a zfs dataset' });
    const dataset = newDataset(req);
    await mkdir(req.rootfs, { recursive: true, mode: 0o755 });
    if (!req.snapshot) {
      await zfs(createArgs(dataset, req.rootfs), `making the zfs dataset ${dataset}`, req, dataset);
      try {
        await copyStorage({ backend: zfsBackend, source: req.from.source, target: req.from.container }, { backend: zfsBackend, source: dataset, target: req });
      } catch (err) {
        await removeDataset(dataset, req).catch(() => undefined);
        throw err;
      }
      return dataset;
    }
    const snapshot = `${req.from.source}@${req.name}`;
    await zfs(['snapshot', snapshot], `snapshotting ${req.from.source}`, req, snapshot);
    try {
      await zfs(['clone', '-p', '-o', 'canmount=noauto', '-o', `mountpoint=${req.rootfs}`, snapshot, dataset], `cloning ${snapshot} as ${dataset}`, req, dataset);
      // zfs-fuse mounts a new clone whatever its canmount says; OpenZFS does not.
      if ((await datasets(req)).get(dataset)?.mounted) await zfs(['unmount', dataset], `unmounting the new clone ${dataset}`, req, dataset);
    } catch (err) {
      await zfs(['destroy', snapshot], `destroying the snapshot ${snapshot}`, req, snapshot).catch(() => undefined);
      throw err;
    }
    return dataset;
  },
  async mount(source, t) {
    notReplayable('lxc.rootfs.path is a zfs dataset: zfs mounts it at every start');
    const { path } = await mountDataset(await requireDataset(source, t), t);
    return { kind: 'bind', path };
  },
  open: openDataset,
  destroy: removeDataset,
};

export default definePlugin({
  name: 'storage-zfs',
  version: VERSION,
  replayable: true,
  lxkit: `^${VERSION}`,
  apply(runtime) {
    runtime.hooks.storage.for('zfs').tap('storage-zfs', () => zfsBackend);
    runtime.hooks.stopWork.tap('storage-zfs', (ctx) => (ctx.rootfs?.storage.backend === zfsBackend ? 'its zfs dataset is unmounted' : undefined));
    runtime.hooks.postStop.tapPromise('storage-zfs', async (ctx) => {
      const { name, lxcpath, config } = ctx.container;
      const value = config.model.rootfs.path;
      if (!value) return;
      const storage = storageOf(runtime, value, { container: name });
      if (storage.backend !== zfsBackend) return;
      const t = { name, lxcpath, dir: `${lxcpath}/${name}`, log: ctx.log };
      const d = (await datasets(t)).get(storage.source);
      if (d?.mounted && d.canmount === 'noauto') await zfs(['unmount', d.name], `unmounting the zfs dataset ${d.name}`, t, d.name);
    });
  },
});
