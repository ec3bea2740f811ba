/**
 * The directories a container's storage is made of, and how a destroy
 * removes them as LXC's does (lxc.rootfs.managed): one inside the
 * container's directory goes with it; the directory itself, or one above it,
 * is never a root filesystem to remove.
 */
import { existsSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { IdMap } from '../config/core-keys/model.js';
import type { Logger } from '../log/logger.js';
import { runInUserNamespace, withCallerIds } from '../start/userns-run.js';

/** `path` is `dir` itself or a directory above it (`/` included): never a container's root filesystem. */
export function isAtOrAbove(path: string, dir: string): boolean {
  const p = resolve(path);
  const d = resolve(dir);
  return p === d || p === sep || d.startsWith(p + sep);
}

/** Removes `path`, a directory of the storage of the container in `dir`, where a destroy should (see above). */
export async function removeStorageDirectory(path: string, dir: string): Promise<void> {
  const abs = resolve(dir, path);
  if (abs.startsWith(resolve(dir) + sep) || isAtOrAbove(abs, dir)) return;
  await rm(abs, { recursive: true, force: true });
}

/** Whether `path` is a directory (following symlinks, as a mount does). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * What a user other than root does first to remove an unprivileged
 * container's directories, whose files belong to the container's
 * subordinate ids: `rm -rf` from inside a user namespace with its maps (and
 * the user's ids). Root, or a container without lxc.idmap, needs nothing.
 */
export async function removeAsContainerRoot(dirs: readonly string[], idmap: readonly IdMap[], o: { what: string; log: Logger }): Promise<void> {
  if (process.getuid?.() === 0 || idmap.length === 0) return;
  for (const root of dirs.filter((p) => existsSync(p))) {
    await runInUserNamespace({ idmap: withCallerIds(idmap), argv: ['rm', '-rf', '--one-file-system', root], what: o.what, log: o.log });
  }
}
