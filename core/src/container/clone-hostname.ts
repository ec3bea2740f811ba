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
 * where the file belongs; a rootfs such a user cannot mount on the host (an
 * overlay snapshot) is mounted there, in a mount namespace of its own.
 */
import { constants } from 'node:fs';
import { lstat, mkdir, mkdtemp, open, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import type { IdMap } from '../config/core-keys/model.js';
import type { Logger } from '../log/logger.js';
import type { RootfsMount } from '../storage/backend.js';
import { overwriteInUserNamespace, runInUserNamespace, withCallerIds } from '../start/userns-run.js';

const leadsOut = (etc: string) => `the copy's /etc leads out of its root filesystem (${etc}): its /etc/hostname is left as it was`;

export async function setCloneHostname(rootfs: string, name: string, idmap: readonly IdMap[], log: Logger): Promise<void> {
  const root = await realpath(rootfs);
  const etc = await realpath(join(root, 'etc')).catch(() => undefined);
  if (etc === undefined) return;
  if (!etc.startsWith(root + sep)) {
    log.warn(leadsOut(etc));
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

/**
 * The same checks and write as a fixed script, run as root of a user
 * namespace ($1..$4: the mount's type, options, source and mount point; $5:
 * the file holding the name; $6: where a resolved /etc that leads out is
 * told). The copy is stopped and locked, so nothing changes between the
 * checks and the write.
 */
const MOUNT_AND_WRITE = [
  'mount -n -t "$1" -o "$2" -- "$3" "$4" || exit 1',
  'root=$(realpath -e -- "$4") && etc=$(realpath -e -- "$4/etc") || exit 0',
  'case "$etc/" in "$root"/*/) ;; *) printf %s "$etc" > "$6"; exit 0 ;; esac',
  '[ -f "$etc/hostname" ] && [ ! -L "$etc/hostname" ] || exit 0',
  'cat -- "$5" > "$etc/hostname"',
].join('\n');

/**
 * setCloneHostname for a user other than root whose copy's rootfs only
 * mounts inside a user namespace (an overlay: the kernel lets root of a
 * user namespace mount one): mounted in a new user and mount namespace with
 * the container's maps and the user's ids, gone with it. False when the
 * mount is not one such a namespace can make (a loop device's filesystem).
 */
export async function setCloneHostnameInUserNamespace(mount: RootfsMount, name: string, idmap: readonly IdMap[], log: Logger): Promise<boolean> {
  if (mount.kind !== 'filesystem' || mount.hostRoot || mount.fstype !== 'overlay' || idmap.length === 0) return false;
  const dir = await mkdtemp(join(tmpdir(), 'lxkit-hostname-'));
  try {
    const [at, text, out] = ['rootfs', 'name', 'out'].map((n) => join(dir, n)) as [string, string, string];
    await mkdir(at);
    await writeFile(text, name);
    await runInUserNamespace({
      idmap: withCallerIds(idmap),
      mountNamespace: true,
      argv: ['sh', '-c', MOUNT_AND_WRITE, 'sh', mount.fstype, mount.options.join(','), mount.source, at, text, out],
      what: "writing the copy's /etc/hostname in its root filesystem, mounted in a user namespace",
      log,
    });
    const etc = await readFile(out, 'utf8').catch(() => undefined);
    if (etc !== undefined) log.warn(leadsOut(etc));
    else log.debug(`/etc/hostname: ${name} (in a user namespace)`);
    return true;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
