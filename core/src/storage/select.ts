/**
 * Which backend a rootfs value belongs to, as LXC decides it (storage.c):
 * a `type:` prefix wins; a bare path is probed in LXC's order. And which one
 * `-B best` means.
 */
import { LxkitError } from '../errors.js';
import type { ConfigEntry } from '../config/entries.js';
import type { Runtime } from '../runtime.js';
import type { StorageBackend, StorageOptions } from './backend.js';

/** LXC's probing order for a type-less lxc.rootfs.path. */
const DETECT_ORDER = ['dir', 'zfs', 'lvm', 'rbd', 'btrfs', 'overlay', 'loop', 'nbd'] as const;
/** What `-B best` tries, in LXC's order; dir always suits. */
const BEST_ORDER = ['btrfs', 'zfs', 'lvm'] as const;

/** lxc.rootfs.path split as LXC splits it: `type:source` (`dir:/srv/c1/rootfs`, `overlay:/lower:/upper`) or a bare path. */
export function rootfsSpec(value: string): { type: string | undefined; source: string } {
  const m = /^([a-z]+):(.*)$/s.exec(value);
  return m ? { type: m[1], source: m[2]! } : { type: undefined, source: value };
}

/** A rootfs value with the backend it belongs to. */
export interface ResolvedStorage {
  readonly backend: StorageBackend;
  /** The backend's own type name (`overlay` for `overlayfs:`). */
  readonly type: string;
  readonly source: string;
}

/** The enabled backend for `type`, if any. */
export function backendFor(runtime: Runtime, type: string): StorageBackend | undefined {
  return runtime.hooks.storage.get(type)?.call();
}

/** What an unavailable or undetectable rootfs value's error names. */
export interface StorageWhere {
  readonly container: string;
  /** The config line the value comes from. */
  readonly origin?: ConfigEntry | undefined;
  /** What was being done (`cannot destroy container "c1"`), said first. */
  readonly doing?: string;
}

/** The backend of a rootfs value; an unknown or disabled type is LXKIT_UNSUPPORTED naming it. */
export function storageOf(runtime: Runtime, value: string, where: StorageWhere): ResolvedStorage {
  const { type, source } = rootfsSpec(value);
  const at = `${where.origin ? `${where.origin.file}:${where.origin.line}: ` : ''}${where.doing ? `${where.doing}: ` : ''}`;
  const details = {
    key: 'lxc.rootfs.path',
    container: where.container,
    ...(where.origin ? { file: where.origin.file, line: where.origin.line } : {}),
  };
  if (type !== undefined) {
    const backend = backendFor(runtime, type);
    if (!backend) {
      throw new LxkitError('LXKIT_UNSUPPORTED', `${at}lxc.rootfs.path = ${value}: storage type "${type}" is not available (no enabled plugin provides it)`, details);
    }
    return { backend, type: backend.type, source };
  }
  for (const t of DETECT_ORDER) {
    const backend = backendFor(runtime, t);
    if (backend?.detect?.(source)) return { backend, type: backend.type, source };
  }
  // Nothing there to detect: a start says the rootfs is missing, naming the path.
  const dir = backendFor(runtime, 'dir');
  if (dir) return { backend: dir, type: 'dir', source };
  throw new LxkitError('LXKIT_UNSUPPORTED', `${at}lxc.rootfs.path = ${value}: no enabled storage backend recognises it`, details);
}

/** The backend `-B TYPE` names (`best`: the first of btrfs, zfs, lvm that suits the lxcpath, else dir). */
export async function chosenBackend(runtime: Runtime, type: string, lxcpath: string, options: StorageOptions, container: string): Promise<StorageBackend> {
  if (type === 'best') {
    for (const t of BEST_ORDER) {
      const backend = backendFor(runtime, t);
      if (backend?.best && (await backend.best(lxcpath, options))) return backend;
    }
    type = 'dir';
  }
  const backend = backendFor(runtime, type);
  if (!backend) {
    throw new LxkitError('LXKIT_UNSUPPORTED', `container "${container}": storage type "${type}" is not available (no enabled plugin provides it)`, { container });
  }
  return backend;
}
