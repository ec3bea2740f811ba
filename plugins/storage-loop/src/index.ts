/**
 * @lxkit/plugin-storage-loop: `loop:FILE` root filesystems, as LXC's loop
 * storage: a sparse image file (`<dir>/rootdev`, 1 GiB and ext4 unless
 * --fssize/--fstype say otherwise) holding the container's filesystem.
 *
 * At start the file is attached to a free loop device and the monitor (the
 * host's root) mounts the device's filesystem for the container; the device
 * is then let go, so that the kernel detaches it when the container's mount
 * goes (autoclear), whoever ends the container. Copies are the core's rsync
 * into a new image; loop storage makes no snapshots (LXC's neither).
 */
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { definePlugin, filesystemType, mountOnHost, notReplayable, removeStorageDirectory, storageTool, VERSION, type StorageBackend, type StorageTarget } from '@lxkit/core';

/** LXC's default size of new block storage. */
const DEFAULT_SIZE = 1024 ** 3;

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

const fsType = (path: string, t: StorageTarget) => filesystemType(path, { container: t.name, what: 'the loop image' });

export const loopBackend: StorageBackend = {
  type: 'loop',
  capabilities: { snapshot: false, clone: false, directory: false },
  detect: isFile,
  missing: (source) => (isFile(source) ? undefined : source),
  async create(req) {
    const file = join(req.dir, 'rootdev');
    // Sparse: the image takes only what the filesystem writes.
    const fh = await open(file, 'wx', 0o600);
    try {
      await fh.truncate(req.options.fssize ?? DEFAULT_SIZE);
    } finally {
      await fh.close();
    }
    const fstype = req.options.fstype ?? 'ext4';
    await storageTool('mkfs', ['-t', fstype, ...(fstype.startsWith('ext') ? ['-q', '-F'] : []), file], { what: `making a ${fstype} filesystem in ${file}`, container: req.name, path: file });
    return file;
  },
  async mount(source, t) {
    notReplayable(`lxc.rootfs.path is a loop file: a loop device is attached at every start`);
    const fstype = await fsType(source, t);
    const device = await storageTool('losetup', ['--find', '--show', source], { what: `attaching ${source} to a loop device`, container: t.name, path: source });
    return {
      kind: 'filesystem',
      fstype,
      source: device,
      options: [],
      hostRoot: true,
      // Once mounted, detaching it only marks it for autoclear; before, it goes at once.
      mounted: async () => void (await storageTool('losetup', ['--detach', device], { what: `letting go of ${device}`, container: t.name, path: device })),
    };
  },
  async open(source, t) {
    // mount's -o loop attaches with autoclear: the device goes with the mount.
    return mountOnHost({ fstype: await fsType(source, t), source, options: ['loop'], container: t.name });
  },
  destroy: (source, t) => removeStorageDirectory(source, t.dir),
};

export default definePlugin({
  name: 'storage-loop',
  version: VERSION,
  replayable: true,
  lxkit: `^${VERSION}`,
  apply(runtime) {
    runtime.hooks.storage.for('loop').tap('storage-loop', () => loopBackend);
  },
});
