/**
 * The core's copy of a root filesystem for backends that cannot clone
 * their own (and across types): rsync with LXC's options (-aHXS
 * --numeric-ids), between two roots opened on the host. A user other than
 * root copies an unprivileged container's files from inside a user
 * namespace with its maps (as LXC runs rsync under userns_exec), the only
 * place where it may read them all and give the copies their owners.
 */
import type { IdMap } from '../config/core-keys/model.js';
import { LxkitError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { runInUserNamespace, withCallerIds } from '../start/userns-run.js';
import type { StorageBackend, StorageCloneRequest, StorageTarget } from './backend.js';
import { storageTool } from './host-mount.js';

/** A container's rootfs as one side of a copy. */
export interface StorageSide {
  readonly backend: StorageBackend;
  readonly source: string;
  readonly target: StorageTarget;
}

/** Opens both roots on the host (each backend's open()), copies the files, closes both; `idmap`: the source container's lxc.idmap. */
export async function copyStorage(from: StorageSide, to: StorageSide, idmap: readonly IdMap[] = []): Promise<void> {
  const a = await from.backend.open(from.source, from.target);
  try {
    const b = await to.backend.open(to.source, to.target);
    try {
      await copyRootfs(a.path, b.path, { container: to.target.name, log: to.target.log, idmap });
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}

export async function copyRootfs(from: string, to: string, o: { container: string; log: Logger; idmap?: readonly IdMap[] }): Promise<void> {
  const argv = ['-aHXS', '--numeric-ids', `${from.replace(/\/+$/, '')}/`, `${to.replace(/\/+$/, '')}/`];
  const what = `copying the root filesystem ${from} to ${to}`;
  if (process.getuid?.() !== 0 && o.idmap?.length) {
    o.log.debug(`copying the root filesystem in a user namespace with the container's maps: rsync ${argv.join(' ')}`);
    await runInUserNamespace({ idmap: withCallerIds(o.idmap), argv: ['rsync', ...argv], what: `${what} for container "${o.container}"`, log: o.log });
    return;
  }
  o.log.debug(`copying the root filesystem: rsync ${argv.join(' ')}`);
  await storageTool('rsync', argv, { what, container: o.container, path: from });
}

/**
 * A backend's clone() of another type's rootfs, where it can only copy: a
 * snapshot is refused (`snapshotOf` says what it would be, `notA` what the
 * source is not), unless a copy will do; a copy is the core's (undefined:
 * create + rsync).
 */
export function copyOfForeign(req: StorageCloneRequest, o: { snapshotOf: string; notA: string }): undefined {
  if (req.snapshot && !req.orCopy) {
    const name = req.from.container.name;
    throw new LxkitError('LXKIT_UNSUPPORTED', `cannot make ${o.snapshotOf} of container "${name}": its root filesystem is ${req.from.type}, not ${o.notA}`, { container: name });
  }
  return undefined;
}
