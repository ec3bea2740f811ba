/**
 * The images of a checkpoint, lent to an unprivileged container's root for
 * its restore. criu's restored processes read their own images, from inside
 * the container's user namespace, where the host's root owns nothing: images
 * that stay root's (mode 0600 in a 0700 directory) cannot be opened there
 * (`Unable to open tty-info.img: Permission denied`). LXD shifts a
 * checkpoint's files to the container's ids before restoring it; lxkit does
 * so for the restore only, and gives them back afterwards, whatever the
 * outcome.
 */
import { chown, lstat, readdir, readlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Gives the images back to their owners. */
export type GiveBack = () => Promise<void>;

/**
 * The checkpoint's directories — `directory` and the pre-dumps it builds on
 * (criu's `parent` links) — and what is in them, given to `uid`:`gid`.
 * Symbolic links keep their owner. Resolves with what gives them back.
 */
export async function lendImages(directory: string, uid: number, gid: number): Promise<GiveBack> {
  const owners: { path: string; uid: number; gid: number }[] = [];
  const giveBack: GiveBack = async () => {
    for (const o of owners.reverse()) await chown(o.path, o.uid, o.gid).catch(() => undefined);
  };
  const seen = new Set<string>();
  try {
    for (let dir: string | undefined = resolve(directory); dir !== undefined && !seen.has(dir); ) {
      seen.add(dir);
      for (const path of [dir, ...(await readdir(dir)).map((e) => join(dir!, e))]) {
        const st = await lstat(path);
        if (st.isSymbolicLink()) continue;
        owners.push({ path, uid: st.uid, gid: st.gid });
        await chown(path, uid, gid);
      }
      const parent: string | undefined = await readlink(join(dir, 'parent')).catch(() => undefined);
      dir = parent === undefined ? undefined : resolve(dir, parent);
    }
  } catch (err) {
    await giveBack();
    throw err;
  }
  return giveBack;
}
