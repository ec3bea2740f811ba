/**
 * @lxkit/native: where the helper executables are, and the addon.
 *
 * The helpers are plain executables (no Node inside): lxkit runs them for
 * work a multi-threaded Node process cannot do itself, such as entering new
 * namespaces. The addon offers the few system calls Node lacks that need no
 * new process (flock for the container lock).
 */
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Helper executables built from native/src by `npm run setup`. */
export const HELPERS = ['lxkit-probe', 'lxkit-monitor'] as const;
export type HelperName = (typeof HELPERS)[number];

const BUILD_DIR = fileURLToPath(new URL('../build/Release/', import.meta.url));

function missing(what: string, path: string): Error {
  return Object.assign(new Error(`native ${what} is not built (${path}); run "npm run setup"`), {
    code: 'LXKIT_NATIVE_MISSING',
    path,
  });
}

/** Absolute path of a helper; throws LXKIT_NATIVE_MISSING when it has not been built. */
export function helperPath(name: HelperName): string {
  const path = BUILD_DIR + name;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw missing(`helper ${name}`, path);
  }
  return path;
}

export interface Addon {
  /** flock(2); throws a Node-style error (EWOULDBLOCK with LOCK_NB when held). */
  flock(fd: number, operation: number): void;
  readonly constants: { readonly LOCK_SH: number; readonly LOCK_EX: number; readonly LOCK_NB: number; readonly LOCK_UN: number };
}

let addon: Addon | undefined;

export function native(): Addon {
  if (!addon) {
    const path = BUILD_DIR + 'lxkit.node';
    try {
      addon = createRequire(import.meta.url)(path) as Addon;
    } catch (err) {
      throw Object.assign(missing('addon', path), { cause: err });
    }
  }
  return addon;
}

/**
 * An empty directory shipped with the package, where a container with a user
 * namespace has its rootfs mounted in its own mount namespace (as LXC's
 * /usr/lib/<arch>/lxc/rootfs): every component of its path is traversable,
 * whatever the container's ids are, unlike most lxcpaths.
 */
export function rootfsMountPoint(): string {
  return fileURLToPath(new URL('../rootfs/', import.meta.url)).replace(/\/$/, '');
}
