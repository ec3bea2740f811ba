/**
 * Making and removing cgroup directories on a cgroupfs mount. Synchronous
 * on purpose: cgroupfs lives in memory, each call takes microseconds, and a
 * start makes some twenty of them (libuv's thread pool would cost more).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';

export type MadeOrExists = 'made' | 'exists';

const read = (path: string): string => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
};

/**
 * A new v1 cpuset cgroup has no CPUs and no memory nodes unless its parent
 * has cgroup.clone_children set, and no task may enter it then: it gets its
 * parent's, written without looking first (where clone_children gave them
 * already, the write changes nothing).
 */
function initCpuset(dir: string, parent: string): void {
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    const value = read(`${parent}/${file}`);
    if (value !== '') writeFileSync(`${dir}/${file}`, value);
  }
}

/** On the unified hierarchy, a child only gets the controllers its parent enables for its subtree. */
function delegateControllers(parent: string): void {
  const available = read(`${parent}/cgroup.controllers`).split(/\s+/).filter(Boolean);
  if (available.length === 0) return;
  const enabled = new Set(read(`${parent}/cgroup.subtree_control`).split(/\s+/));
  const missing = available.filter((c) => !enabled.has(c));
  if (missing.length === 0) return;
  try {
    writeFileSync(`${parent}/cgroup.subtree_control`, missing.map((c) => `+${c}`).join(' '));
  } catch {
    // A parent with processes of its own cannot delegate (no internal processes): limits on
    // those controllers then fail with the key named, which says more than failing here.
  }
}

/**
 * Makes `rel` below `base` (parents as needed) in a hierarchy of `version`;
 * 'exists' when the last component was already there.
 */
export function makeCgroup(base: string, rel: string, version: 1 | 2, cpuset: boolean): MadeOrExists {
  let dir = base;
  const parts = rel.split('/').filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    const parent = dir;
    dir = `${dir}/${parts[i]}`;
    if (version === 2) delegateControllers(parent);
    try {
      mkdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (i === parts.length - 1) return 'exists';
      continue;
    }
    if (cpuset) initCpuset(dir, parent);
  }
  return 'made';
}

/** Removes `dir` and every cgroup below it, deepest first; false when one is still in use. */
export function removeCgroupTree(dir: string): boolean {
  // The common case (nothing left from an earlier start) without the cost of a thrown ENOENT.
  if (!existsSync(dir)) return true;
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
  for (const e of entries) if (e.isDirectory()) removeCgroupTree(`${dir}/${e.name}`);
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Moves process `pid` into the cgroup `dir`. */
export function enterCgroup(dir: string, pid: number): void {
  writeFileSync(`${dir}/cgroup.procs`, String(pid));
}
