/**
 * As LXC's clone: the copy's /etc/hostname says its new name (the name
 * alone, no newline, as LXC writes it), when the rootfs has that file and
 * the name is not kept (lxc-copy -K, snapshots). Done before the clone
 * hooks, as LXC does; /etc/hosts and the like are theirs to edit.
 *
 * The source's rootfs is the container's to shape, so nothing in it may
 * make the host write elsewhere: /etc must resolve inside the rootfs, and
 * the file is opened without following a link (the copy is stopped and
 * locked: nothing changes meanwhile). A user other than root writes an
 * unprivileged container's file as root of a user namespace with its maps,
 * where the file belongs.
 */
import { constants } from 'node:fs';
import { lstat, open, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { IdMap } from '../config/core-keys/model.js';
import type { Logger } from '../log/logger.js';
import { overwriteInUserNamespace } from '../start/userns-run.js';

export async function setCloneHostname(rootfs: string, name: string, idmap: readonly IdMap[], log: Logger): Promise<void> {
  const root = await realpath(rootfs);
  const etc = await realpath(join(root, 'etc')).catch(() => undefined);
  if (etc === undefined) return;
  if (!etc.startsWith(root + sep)) {
    log.warn(`the copy's /etc leads out of its root filesystem (${etc}): its /etc/hostname is left as it was`);
    return;
  }
  const file = join(etc, 'hostname');
  if (!(await lstat(file).catch(() => undefined))?.isFile()) return;
  try {
    const fh = await open(file, constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW);
    try {
      await fh.writeFile(name);
    } finally {
      await fh.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EACCES' || process.getuid?.() === 0 || idmap.length === 0) throw err;
    await overwriteInUserNamespace([[file, name]], { idmap, what: `writing the new host name in ${file}`, log });
  }
  log.debug(`${file}: ${name}`);
}
