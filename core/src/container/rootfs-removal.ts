/**
 * What a destroy removes besides the container's directory: its root
 * filesystem where the config puts it elsewhere, as LXC's destroy does
 * for the storage it manages (`lxc.rootfs.managed`, on by default).
 *
 * - `dir` (or a bare path): that directory, wherever it is;
 * - `overlay`/`overlayfs`: the upper layer (a snapshot clone's changes),
 *   never the lower one, which is its origin's root filesystem;
 * - any other type is storage lxkit cannot remove yet (a btrfs subvolume,
 *   an LVM volume, a ZFS dataset): the destroy is refused rather than
 *   leaving it behind with nothing that knows of it.
 */
import { resolve, sep } from 'node:path';
import { LxkitError } from '../errors.js';
import { rootfsSpec } from '../start/prepare.js';

/** The paths to remove with the container's directory `dir` (those inside it go with it). */
export function rootfsToRemove(value: string | undefined, managed: boolean, dir: string, container: string): string[] {
  // Storage LXC does not manage is not a destroy's to touch, whatever its type.
  if (!value || !managed) return [];
  const { type, source } = rootfsSpec(value);
  let path: string | undefined;
  if (type === undefined || type === 'dir') path = source;
  else if (type === 'overlay' || type === 'overlayfs') path = overlayUpper(source);
  else {
    throw new LxkitError(
      'LXKIT_UNSUPPORTED',
      `cannot destroy container "${container}": lxc.rootfs.path = ${value}: storage type "${type}" is not available (no enabled plugin provides it), and its storage would be left behind`,
      { key: 'lxc.rootfs.path', container },
    );
  }
  if (!path) return [];
  const abs = resolve(dir, path);
  // Inside the directory it goes with it; the directory itself, or one above it, is never a rootfs to remove.
  if (abs.startsWith(resolve(dir) + sep) || isAtOrAbove(abs, dir)) return [];
  return [abs];
}

/** `path` is `dir` itself or a directory above it (`/` included): never a container's root filesystem. */
export function isAtOrAbove(path: string, dir: string): boolean {
  const p = resolve(path);
  const d = resolve(dir);
  return p === d || p === sep || d.startsWith(p + sep);
}

/** `lower:upper` (LXC's overlay source; neither may contain a `:`). */
function overlayUpper(source: string): string | undefined {
  const parts = source.split(':');
  return parts.length >= 2 ? parts[parts.length - 1] : undefined;
}
