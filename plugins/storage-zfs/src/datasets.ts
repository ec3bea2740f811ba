/**
 * What the zfs tool says about datasets, read the same way from OpenZFS and
 * from zfs-fuse (whose `zfs` knows neither `-p` nor the `clones` property):
 * one `zfs list` of every filesystem gives existence, mount state and the
 * clone relations a destroy needs.
 */
import { spawnSync } from 'node:child_process';
import { LxkitError, storageTool, type StorageTarget } from '@lxkit/core';

export interface Dataset {
  readonly name: string;
  /** The snapshot it was cloned from (`pool/lxc/c1@c2`), or undefined. */
  readonly origin: string | undefined;
  /** A path, or `legacy` / `none`. */
  readonly mountpoint: string;
  readonly mounted: boolean;
  /** `on`, `off` or `noauto` (LXC makes its datasets noauto: mounted only when asked). */
  readonly canmount: string;
}

/** Runs `zfs ARGS…`; a failure is LXKIT_COMMAND_FAILED saying what lxkit was doing and what zfs said. */
export const zfs = (args: readonly string[], what: string, t: StorageTarget, dataset: string): Promise<string> =>
  storageTool('zfs', args, { what, container: t.name, path: dataset });

/** Every filesystem dataset, by name. */
export async function datasets(t: StorageTarget): Promise<Map<string, Dataset>> {
  const out = await zfs(['list', '-H', '-t', 'filesystem', '-o', 'name,origin,mountpoint,mounted,canmount'], 'listing the zfs datasets', t, '');
  const all = new Map<string, Dataset>();
  for (const line of out.split('\n')) {
    const [name, origin, mountpoint, mounted, canmount] = line.split('\t');
    if (!name || canmount === undefined) continue;
    all.set(name, { name, origin: origin === '-' ? undefined : origin, mountpoint: mountpoint!, mounted: mounted === 'yes', canmount });
  }
  return all;
}

/** The dataset `name`; a missing one is LXKIT_ROOTFS_MISSING naming it and the container. */
export async function requireDataset(name: string, t: StorageTarget): Promise<Dataset> {
  const d = (await datasets(t)).get(name);
  if (!d) {
    throw new LxkitError('LXKIT_ROOTFS_MISSING', `the root filesystem zfs:${name} of container "${t.name}" does not exist (zfs has no dataset ${name})`, {
      container: t.name,
      key: 'lxc.rootfs.path',
      path: name,
    });
  }
  return d;
}

/** Snapshots of `name` itself (not of its children), oldest first: zfs lists them in the order they were made. */
export async function snapshotsOf(name: string, t: StorageTarget): Promise<string[]> {
  const out = await zfs(['list', '-H', '-t', 'snapshot', '-o', 'name', '-d', '1', name], `listing the snapshots of ${name}`, t, name);
  return out.split('\n').filter((s) => s.startsWith(`${name}@`));
}

/** ZFS's rule for a dataset name (a pool, then `/`-separated components). */
const DATASET = /^[A-Za-z0-9][A-Za-z0-9_.:-]*(\/[A-Za-z0-9_.:-]+)*$/;

/**
 * Whether `value` names an existing dataset: a type-less lxc.rootfs.path
 * (LXC's zfs_detect), the pool `-B best` would use. Synchronous, as
 * detection is; only a value that could be a dataset name asks zfs, and no
 * zfs tool or daemon means no.
 */
export function isDataset(value: string): boolean {
  if (!DATASET.test(value)) return false;
  const r = spawnSync('zfs', ['list', '-H', '-o', 'name', value], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return r.status === 0 && r.stdout.trim() === value;
}

