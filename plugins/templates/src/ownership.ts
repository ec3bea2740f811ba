/**
 * Making a rootfs usable by an unprivileged container. Preferred: an
 * idmapped mount at start (lxc.rootfs.options = idmap=container), which
 * leaves the files owned by root on disk; it needs a kernel and filesystem
 * that support idmapped mounts. Otherwise every file's owner is shifted into
 * the container's range, as LXC's templates do.
 */
import { chmod, lchown, lstat, readdir } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { statfs } from 'node:fs/promises';

/** Filesystem magic → first kernel version with idmapped mounts for it. */
const IDMAP_SINCE: Readonly<Record<number, [number, number]>> = {
  0xef53: [5, 12], // ext2/3/4
  0x58465342: [5, 12], // xfs
  0x4d44: [5, 12], // fat
  0x9123683e: [5, 15], // btrfs
  0x794c7630: [5, 19], // overlayfs
  0x01021994: [6, 3], // tmpfs
};

function kernelAtLeast([major, minor]: [number, number]): boolean {
  const [a = 0, b = 0] = release().split('.').map((x) => parseInt(x, 10));
  return a > major || (a === major && b >= minor);
}

export async function supportsIdmappedMounts(dir: string): Promise<boolean> {
  const since = IDMAP_SINCE[(await statfs(dir)).type];
  return since !== undefined && kernelAtLeast(since);
}

/** Shifts uid/gid of every file under `dir` by `offset` (0 → offset...). */
export async function shiftOwnership(dir: string, offset: number): Promise<void> {
  const st = await lstat(dir);
  await lchown(dir, st.uid + offset, st.gid + offset);
  // chown clears set-id bits; put them back.
  if (st.isFile() && st.mode & 0o6000) await chmod(dir, st.mode & 0o7777);
  if (!st.isDirectory()) return;
  for (const name of await readdir(dir)) await shiftOwnership(join(dir, name), offset);
}
