/**
 * What depends on a container, in the files LXC keeps for it, so that a
 * destroy neither takes data with it nor leaves LXC's records wrong:
 *
 * - its snapshots (lxc-snapshot): containers in `<dir>/snaps`, one directory each;
 * - its snapshot clones (lxc-copy -s, overlay): `<dir>/lxc_snapshots` lists
 *   them as line pairs `<lxcpath>\n<name>\n`; their root filesystems use its
 *   own as their lower layer;
 * - for a snapshot clone, its origin: `<dir>/lxc_rdepends`, one such pair,
 *   which the clone's destroy takes out of the origin's lxc_snapshots.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export interface ContainerRef {
  readonly lxcpath: string;
  readonly name: string;
}

const SNAPSHOTS = 'snaps';
const CLONES = 'lxc_snapshots';
const ORIGIN = 'lxc_rdepends';

/** `<lxcpath>\n<name>\n` pairs; a missing file is none. */
async function readRefs(file: string): Promise<ContainerRef[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const lines = text.split('\n');
  const refs: ContainerRef[] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    if (lines[i] !== '' && lines[i + 1] !== '') refs.push({ lxcpath: lines[i]!, name: lines[i + 1]! });
  }
  return refs;
}

/** The lxcpath of a container's snapshots: each is a container there. */
export const snapshotPath = (dir: string): string => join(dir, SNAPSHOTS);

/** The names of the container's snapshots (the directories in `<dir>/snaps`), sorted. */
export async function snapshotsOf(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(snapshotPath(dir), { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
}

/** The snapshot clones made of the container (lxc_snapshots). */
export const clonesOf = (dir: string): Promise<ContainerRef[]> => readRefs(join(dir, CLONES));

/**
 * A snapshot clone goes: its origin no longer lists it (the file goes with
 * its last entry, as with LXC). An origin that is gone, or does not list
 * it, is left as it is.
 */
export async function releaseOrigin(dir: string, self: ContainerRef): Promise<void> {
  const [origin] = await readRefs(join(dir, ORIGIN));
  if (!origin) return;
  const file = join(origin.lxcpath, origin.name, CLONES);
  const clones = await readRefs(file);
  const left = clones.filter((c) => !(resolve(c.lxcpath) === resolve(self.lxcpath) && c.name === self.name));
  if (left.length === clones.length) return;
  if (left.length === 0) await rm(file, { force: true });
  else await writeFile(file, left.map((c) => `${c.lxcpath}\n${c.name}\n`).join(''));
}

/** The origin a snapshot clone records (`lxc_rdepends`), if any. */
export async function originOf(dir: string): Promise<ContainerRef | undefined> {
  return (await readRefs(join(dir, ORIGIN)))[0];
}

/**
 * A snapshot clone `clone` (in `cloneDir`) is built on `origin`'s root
 * filesystem: the clone names its origin, the origin lists the clone.
 */
export async function recordClone(origin: ContainerRef, clone: ContainerRef, cloneDir: string): Promise<void> {
  await writeFile(join(cloneDir, ORIGIN), `${origin.lxcpath}\n${origin.name}\n`);
  const file = join(origin.lxcpath, origin.name, CLONES);
  const clones = await readRefs(file);
  if (!clones.some((c) => resolve(c.lxcpath) === resolve(clone.lxcpath) && c.name === clone.name)) {
    await writeFile(file, [...clones, clone].map((c) => `${c.lxcpath}\n${c.name}\n`).join(''));
  }
}
