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
import { lstat, open, readFile, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { IdMap } from '../config/core-keys/model.js';
import type { Logger } from '../log/logger.js';
import { overwriteInUserNamespace, type HeldNamespace } from '../start/userns-run.js';

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
 * The same checks and write as a fixed script, run by root of a user
 * namespace ($1: the rootfs's place there; $2: the name; $3: where a
 * resolved /etc that leads out is told). The copy is stopped and locked, so
 * nothing changes between the checks and the write.
 */
const CHECK_AND_WRITE = [
  'root=$(realpath -e -- "$1") && etc=$(realpath -e -- "$1/etc") || exit 0',
  'case "$etc/" in "$root"/*/) ;; *) printf %s "$etc" > "$3"; exit 0 ;; esac',
  '[ -f "$etc/hostname" ] && [ ! -L "$etc/hostname" ] || exit 0',
  'printf %s "$2" > "$etc/hostname"',
].join('\n');

/**
 * setCloneHostname for a user other than root whose copy's rootfs is
 * mounted only in a user namespace of the caller's (an overlay: the kernel
 * lets root of a user namespace mount one), at `mount` there; `scratch` is
 * a directory of the caller's for the script's answer.
 */
export async function setCloneHostnameIn(ns: HeldNamespace, mount: string, scratch: string, name: string, log: Logger): Promise<void> {
  const out = join(scratch, 'etc-leads-out');
  await ns.run(['sh', '-c', CHECK_AND_WRITE, 'sh', mount, name, out], { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, { what: "writing the copy's /etc/hostname" });
  const etc = await readFile(out, 'utf8').catch(() => undefined);
  if (etc !== undefined) log.warn(leadsOut(etc));
  else log.debug(`/etc/hostname: ${name} (in a user namespace)`);
}
