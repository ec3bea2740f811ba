/**
 * The `dir` backend: the root filesystem is a directory on the host,
 * bind-mounted at start. Copies are the core's rsync; a snapshot of a dir
 * container is an overlay (lxc-copy -s) or a copy (lxc-snapshot), as in LXC.
 */
import { mkdir } from 'node:fs/promises';
import type { StorageBackend } from './backend.js';
import { isDirectory, removeStorageDirectory } from './directories.js';

export const dirBackend: StorageBackend = {
  type: 'dir',
  capabilities: { snapshot: false, clone: false, directory: true },
  detect: isDirectory,
  missing: (source) => (isDirectory(source) ? undefined : source),
  async create(req) {
    await mkdir(req.rootfs, { recursive: true, mode: 0o755 });
    return req.rootfs;
  },
  mount: async (source) => ({ kind: 'bind', path: source }),
  open: async (source) => ({ path: source, close: async () => undefined }),
  destroy: (source, target) => removeStorageDirectory(source, target.dir),
  directories: (source) => [source],
};
