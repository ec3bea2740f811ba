/**
 * lxc-snapshot: a container's snapshots are containers of their own in
 * `<dir>/snaps` (snap0, snap1…), each with a `ts` file (its time, as
 * `YYYY:MM:DD HH:MM:SS` local time) and an optional `comment` file. A
 * snapshot is a clone that keeps the name, the hwaddrs and the storage type,
 * copy-on-write where the backend can (btrfs, zfs, lvm, overlay), a copy
 * otherwise (dir, loop), as LXC makes them. A restore clones one back.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LxkitError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { cloneContainer, type CloneSource } from './clone.js';
import { snapshotPath, snapshotsOf } from './dependents.js';
import { containerPaths } from './paths.js';

export interface SnapshotInfo {
  /** `snapN`. */
  readonly name: string;
  /** Where it is: `<dir>/snaps`, the lxcpath of the snapshot as a container. */
  readonly lxcpath: string;
  /** When it was taken, as LXC writes it (`2026:11:24 09:04:14`); empty when its ts file is gone. */
  readonly timestamp: string;
  /** Its comment file's text, if it has one. */
  readonly comment?: string;
}

/** LXC's `ts` format, in local time. */
function timestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}:${p(d.getMonth() + 1)}:${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Takes a snapshot of a stopped container; resolves with its name. */
export async function takeSnapshot(runtime: Runtime, c: CloneSource, commentFile?: string): Promise<string> {
  const dir = containerPaths(c.lxcpath, c.name).dir;
  const lxcpath = snapshotPath(dir);
  const taken = new Set(await snapshotsOf(dir));
  let i = 0;
  while (taken.has(`snap${i}`)) i++;
  const name = `snap${i}`;
  const comment = commentFile !== undefined ? await readFile(commentFile).catch((err: NodeJS.ErrnoException) => {
    throw new LxkitError('LXKIT_USAGE', `cannot read the comment file ${commentFile}: ${err.code ?? err.message}`, { path: commentFile, container: c.name });
  }) : undefined;
  await cloneContainer(runtime, c, name, { lxcpath, keepName: true, keepMac: true, snapshot: true, maybeSnapshot: true });
  const snapDir = join(lxcpath, name);
  await writeFile(join(snapDir, 'ts'), timestamp(new Date()));
  if (comment !== undefined) await writeFile(join(snapDir, 'comment'), comment);
  return name;
}

/** The container's snapshots, oldest name first. */
export async function listSnapshots(c: CloneSource): Promise<SnapshotInfo[]> {
  const dir = containerPaths(c.lxcpath, c.name).dir;
  const lxcpath = snapshotPath(dir);
  const out: SnapshotInfo[] = [];
  for (const name of await snapshotsOf(dir)) {
    const read = (f: string) => readFile(join(lxcpath, name, f), 'utf8').catch(() => undefined);
    const [ts, comment] = await Promise.all([read('ts'), read('comment')]);
    out.push({ name, lxcpath, timestamp: (ts ?? '').trim(), ...(comment !== undefined ? { comment } : {}) });
  }
  return out;
}

/** The snapshot's directory, or LXKIT_CONTAINER_NOT_FOUND naming it. */
export async function requireSnapshot(c: CloneSource, snap: string): Promise<string> {
  const dir = containerPaths(c.lxcpath, c.name).dir;
  if (!(await snapshotsOf(dir)).includes(snap)) {
    throw new LxkitError('LXKIT_CONTAINER_NOT_FOUND', `container "${c.name}" has no snapshot "${snap}" (in ${snapshotPath(dir)})`, {
      container: c.name,
      path: join(snapshotPath(dir), snap),
    });
  }
  return snapshotPath(dir);
}
