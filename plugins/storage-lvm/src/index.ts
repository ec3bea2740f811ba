/**
 * @lxkit/plugin-storage-lvm: `lvm:/dev/VG/LV` root filesystems, as LXC's
 * lvm storage: a logical volume per container (--vgname, else
 * lxc.bdev.lvm.vg, else `lxc`; --lvname, else the container's name) of
 * --fssize (1 GiB), thin when the volume group has the thin pool
 * (--thinpool, else lxc.bdev.lvm.thin_pool, else `lxc`), formatted with
 * --fstype (ext4). The monitor mounts its filesystem for a start, as a
 * loop device's. A copy is a new volume beside the source's of its size
 * and filesystem, filled by rsync; a snapshot (copy -s, lxkit snapshot) is
 * an LVM snapshot: a thin one of a thin volume, else a classic one as large
 * as its origin.
 *
 * A classic snapshot lives only as long as its origin (`lvremove -f` of the
 * origin takes its snapshots along): lxkit refuses to destroy an origin
 * while classic snapshots of it exist, naming them, and restores of it fail
 * there before anything is removed; thin snapshots are independent. A
 * classic snapshot cannot itself be snapshotted: lxkit snapshot takes a
 * copy of it instead, copy -s is refused.
 *
 * Naming: a container's snapshot N is the volume `<container>_snapN`, where
 * LXC's collide (see the core's cloneStorageName).
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import {
  cloneStorageName,
  copyOfForeign,
  copyStorage,
  definePlugin,
  filesystemType,
  LxkitError,
  mountOnHost,
  notReplayable,
  VERSION,
  type StorageBackend,
  type StorageCloneRequest,
  type StorageTarget,
} from '@lxkit/core';
import { findVolume, isClassicSnapshot, isLogicalVolume, isThinVolume, lvmTool, namesOf, volumeGroupExists, volumesOf, type Volume } from './volumes.js';

/** LXC's defaults: lxc.bdev.lvm.vg, lxc.bdev.lvm.thin_pool, the size and filesystem of new block storage. */
const DEFAULT_VG = 'lxc';
const DEFAULT_SIZE = 1024 ** 3;
const DEFAULT_FSTYPE = 'ext4';

const fsType = (source: string, t: StorageTarget) => filesystemType(source, { container: t.name, what: 'the logical volume' });

/** Makes `/dev/<vg>/<lv>` (thin in `thinpool` when the group has that thin pool) with a `fstype` filesystem; removes it again if mkfs fails. */
async function makeVolume(o: { vg: string; lv: string; size: number; thinpool: string | undefined; fstype: string }, t: StorageTarget): Promise<string> {
  const path = `/dev/${o.vg}/${o.lv}`;
  // As LXC: a group that cannot be listed has no thin pool (lvcreate then says what is wrong with it).
  const listed = o.thinpool === undefined ? [] : await volumesOf(o.vg, t).catch(() => []);
  const pool = listed.find((v) => v.lv === o.thinpool && v.attr[0] === 't');
  // -Wn: a new volume is formatted at once; wiping old signatures would wait for udev, which may not run.
  const args = pool
    ? ['-q', '-y', '-Wn', '--thinpool', `${o.vg}/${pool.lv}`, '-V', `${o.size}b`, '-n', o.lv]
    : ['-q', '-y', '-Wn', '-L', `${o.size}b`, '-n', o.lv, o.vg];
  await lvmTool('lvcreate', args, `making the logical volume ${path}`, t, path);
  try {
    await lvmTool('mkfs', ['-t', o.fstype, ...(o.fstype.startsWith('ext') ? ['-q', '-F'] : []), path], `making a ${o.fstype} filesystem on ${path}`, t, path);
  } catch (err) {
    await lvmTool('lvremove', ['-q', '-f', path], `removing ${path}`, t, path).catch(() => undefined);
    throw err;
  }
  return path;
}

/** A new volume beside `from`, of its size and filesystem, with its files. */
async function copyVolume(from: Volume, req: StorageCloneRequest): Promise<string> {
  const fstype = await fsType(from.path, req.from.container);
  const path = await makeVolume({ vg: from.vg, lv: cloneStorageName(req), size: from.size, thinpool: req.options.thinpool, fstype }, req);
  try {
    await copyStorage({ backend: lvmBackend, source: from.path, target: req.from.container }, { backend: lvmBackend, source: path, target: req });
  } catch (err) {
    await lvmTool('lvremove', ['-q', '-f', path], `removing ${path}`, req, path).catch(() => undefined);
    throw err;
  }
  return path;
}

async function requireVolume(source: string, t: StorageTarget): Promise<Volume> {
  const v = await findVolume(source, t);
  if (!v) {
    throw new LxkitError('LXKIT_ROOTFS_MISSING', `the root filesystem lvm:${source} of container "${t.name}" does not exist (no logical volume ${source})`, {
      container: t.name,
      key: 'lxc.rootfs.path',
      path: source,
    });
  }
  return v;
}

export const lvmBackend: StorageBackend = {
  type: 'lvm',
  capabilities: { snapshot: true, clone: true, directory: false },
  best: async (_lxcpath, options) => volumeGroupExists(options.vgname ?? DEFAULT_VG),
  detect: isLogicalVolume,
  missing: (source) => {
    try {
      return statSync(source).isBlockDevice() ? undefined : source;
    } catch {
      return source;
    }
  },
  async create(req) {
    const o = req.options;
    const path = await makeVolume({ vg: o.vgname ?? DEFAULT_VG, lv: o.lvname ?? req.name, size: o.fssize ?? DEFAULT_SIZE, thinpool: o.thinpool, fstype: o.fstype ?? DEFAULT_FSTYPE }, req);
    // As LXC: the container's rootfs directory exists, for tools that look there.
    await mkdir(req.rootfs, { recursive: true, mode: 0o755 });
    return path;
  },
  async clone(req) {
    // The core makes a volume in the configured group and copies the files into it.
    if (req.from.type !== 'lvm') return copyOfForeign(req, { snapshotOf: 'an LVM snapshot', notA: 'a logical volume' });
    const from = await requireVolume(req.from.source, req.from.container);
    await mkdir(req.rootfs, { recursive: true, mode: 0o755 });
    if (!req.snapshot) return copyVolume(from, req);
    if (isClassicSnapshot(from)) {
      if (req.orCopy) return copyVolume(from, req);
      throw new LxkitError('LXKIT_UNSUPPORTED', `cannot snapshot container "${req.from.container.name}": its logical volume ${from.path} is a classic LVM snapshot, which LVM cannot snapshot (copy it without -s)`, {
        container: req.from.container.name,
        path: from.path,
      });
    }
    const lv = cloneStorageName(req);
    const path = `/dev/${from.vg}/${lv}`;
    // A thin snapshot is made with activation skipped unless -kn says otherwise; a classic one needs room for every block the origin may change.
    const args = isThinVolume(from) ? ['-q', '-y', '-s', '-kn', '-n', lv, `${from.vg}/${from.lv}`] : ['-q', '-y', '-s', '-L', `${from.size}b`, '-n', lv, `${from.vg}/${from.lv}`];
    await lvmTool('lvcreate', args, `snapshotting ${from.path}`, req, path);
    return path;
  },
  async mount(source, t) {
    notReplayable('lxc.rootfs.path is a logical volume: its filesystem type is read at every start');
    if (!existsSync(source)) await requireVolume(source, t);
    return { kind: 'filesystem', fstype: await fsType(source, t), source, options: [], hostRoot: true };
  },
  async open(source, t) {
    return mountOnHost({ fstype: await fsType(source, t), source, options: [], container: t.name });
  },
  async destroy(source, t) {
    const { vg, lv } = namesOf(source, t.name);
    const group = volumeGroupExists(vg);
    const all = group ? await volumesOf(vg, t) : [];
    if (!all.some((v) => v.lv === lv)) {
      t.log.warn(`the logical volume ${source} of container "${t.name}" is gone already${group ? '' : ` (there is no volume group ${vg})`}`);
      return;
    }
    const snapshots = all.filter((v) => v.origin === lv && isClassicSnapshot(v)).map((v) => v.path);
    if (snapshots.length > 0) {
      throw new LxkitError(
        'LXKIT_CONTAINER_HAS_CLONES',
        `cannot remove the logical volume ${source} of container "${t.name}": the classic LVM snapshots ${snapshots.join(', ')} live on it and would go with it; destroy the containers or snapshots using them first`,
        { container: t.name, path: source },
      );
    }
    await lvmTool('lvremove', ['-q', '-f', source], `removing the logical volume ${source}`, t, source);
  },
};

export default definePlugin({
  name: 'storage-lvm',
  version: VERSION,
  replayable: true,
  lxkit: `^${VERSION}`,
  apply(runtime) {
    runtime.hooks.storage.for('lvm').tap('storage-lvm', () => lvmBackend);
  },
});
