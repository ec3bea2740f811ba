/**
 * criu's --cgroup-root values: where the container's processes are, per
 * hierarchy, as a path below the hierarchy's root (what /proc/PID/cgroup
 * shows), with the hierarchy's controllers in front on a v1 host.
 */
import { readFileSync } from 'node:fs';

export interface CgroupDir {
  readonly version: 1 | 2;
  readonly controllers: readonly string[];
  /** The init's cgroup, an absolute directory under the hierarchy's mount point. */
  readonly init: string;
}

/** The mount points of the cgroup hierarchies in /proc/self/mountinfo. */
export function cgroupMountPoints(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const [before, after] = line.split(' - ');
    const fstype = after?.split(' ')[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const point = before?.split(' ')[4];
    // mountinfo escapes spaces and the like as octal.
    if (point) out.push(point.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

/** `dir` below the longest mount point that holds it ("/" at a hierarchy's root); undefined when none does. */
export function belowMount(dir: string, mountPoints: readonly string[]): string | undefined {
  const point = mountPoints.filter((m) => dir === m || dir.startsWith(`${m}/`)).sort((a, b) => b.length - a.length)[0];
  if (point === undefined) return undefined;
  return dir.slice(point.length) || '/';
}

/** One --cgroup-root value per hierarchy: `/path` for the unified one, `controllers:/path` for a v1 one. */
export function cgroupRoots(dirs: readonly CgroupDir[], mountPoints: readonly string[] = cgroupMountPoints()): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    const path = belowMount(d.init, mountPoints) ?? (d.init.startsWith('/sys/fs/cgroup') ? undefined : d.init);
    if (path === undefined) continue;
    out.push(d.version === 2 ? path : `${d.controllers.join(',')}:${path}`);
  }
  return out;
}

/** The cgroup criu freezes the container with while it dumps it: the unified hierarchy's, else the v1 freezer's. */
export function freezerOf(dirs: readonly CgroupDir[]): string | undefined {
  return dirs.find((d) => d.version === 2)?.init ?? dirs.find((d) => d.controllers.includes('freezer'))?.init;
}
