/**
 * The core's copy of a root filesystem for backends that cannot clone
 * their own (and across types): rsync with LXC's options (-aHXS
 * --numeric-ids), between two roots opened on the host.
 */
import type { Logger } from '../log/logger.js';
import type { StorageBackend, StorageTarget } from './backend.js';
import { storageTool } from './host-mount.js';

/** A container's rootfs as one side of a copy. */
export interface StorageSide {
  readonly backend: StorageBackend;
  readonly source: string;
  readonly target: StorageTarget;
}

/** Opens both roots on the host (each backend's open()), copies the files, closes both. */
export async function copyStorage(from: StorageSide, to: StorageSide): Promise<void> {
  const a = await from.backend.open(from.source, from.target);
  try {
    const b = await to.backend.open(to.source, to.target);
    try {
      await copyRootfs(a.path, b.path, { container: to.target.name, log: to.target.log });
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}

export async function copyRootfs(from: string, to: string, o: { container: string; log: Logger }): Promise<void> {
  const argv = ['-aHXS', '--numeric-ids', `${from.replace(/\/+$/, '')}/`, `${to.replace(/\/+$/, '')}/`];
  o.log.debug(`copying the root filesystem: rsync ${argv.join(' ')}`);
  await storageTool('rsync', argv, { what: `copying the root filesystem ${from} to ${to}`, container: o.container, path: from });
}
