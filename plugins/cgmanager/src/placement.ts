/**
 * Where a container's cgroups go, by LXC's rules (cgfsng.c).
 *
 * The base in each hierarchy is PID 1's cgroup when root starts the
 * container (LXC escapes to the top unless lxc.cgroup.relative), else the
 * caller's own; a trailing /init.scope (systemd's PID 1) is left out. Below
 * it: `lxc.payload.NAME` and `lxc.monitor.NAME`; or `DIR/lxc.payload.NAME`
 * with lxc.cgroup.dir; or exactly lxc.cgroup.dir.container / .dir.monitor;
 * or `PATTERN/lxc.payload` with the toolkit's cgroup pattern (%n: the name).
 * Names LXC may suffix with -1, -2... on a clash are marked `retry`.
 */
import type { CgroupHierarchy } from '@lxkit/core';
import type { CgroupModel } from './keys.js';

export interface CgroupNames {
  /** The container's cgroup, relative to the base. */
  readonly container: string;
  readonly monitor: string;
  /** A clash may be resolved with a -N suffix (not for explicit .dir.container/.dir.monitor). */
  readonly retry: boolean;
  /** lxc.cgroup.dir.container.inner: the init's cgroup below the container's. */
  readonly inner?: string;
  /** lxc.cgroup.dir.monitor.pivot: where the monitor goes before its cgroup is removed. */
  readonly pivot?: string;
}

export function cgroupNames(name: string, model: CgroupModel | undefined, pattern: string | undefined): CgroupNames {
  const extra = {
    ...(model?.dirContainerInner ? { inner: model.dirContainerInner } : {}),
    ...(model?.dirMonitorPivot ? { pivot: model.dirMonitorPivot } : {}),
  };
  if (model?.dirContainer !== undefined && model.dirMonitor !== undefined) {
    return { container: model.dirContainer, monitor: model.dirMonitor, retry: false, ...extra };
  }
  if (model?.dir !== undefined) {
    return { container: `${model.dir}/lxc.payload.${name}`, monitor: `${model.dir}/lxc.monitor.${name}`, retry: true, ...extra };
  }
  if (pattern) {
    const tree = pattern.replaceAll('%n', name);
    return { container: `${tree}/lxc.payload`, monitor: `${tree}/lxc.monitor`, retry: true, ...extra };
  }
  return { container: `lxc.payload.${name}`, monitor: `lxc.monitor.${name}`, retry: true, ...extra };
}

/** A `-N` suffix for attempt N (none for the first). */
export const withSuffix = (path: string, attempt: number): string => (attempt === 0 ? path : `${path}-${attempt}`);

/**
 * /proc/PID/cgroup: each hierarchy's path, keyed by its controllers as
 * lines name them (`cpu,cpuacct`, `name=systemd`, and `` for the unified one).
 */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^[0-9]+:([^:]*):(.*)$/.exec(line);
    if (m) out.set(m[1]!.split(',').sort().join(','), m[2]!);
  }
  return out;
}

/** The path of hierarchy `h` in a parsed /proc/PID/cgroup. */
export function pathIn(paths: Map<string, string>, h: CgroupHierarchy): string | undefined {
  const key = h.version === 2 ? '' : [...h.controllers].sort().join(',');
  return paths.get(key);
}

/** LXC's prune_init_scope: systemd's PID 1 sits in /init.scope, containers go beside it. */
export function pruneInitScope(path: string): string {
  const pruned = path.endsWith('/init.scope') ? path.slice(0, -'/init.scope'.length) : path;
  return pruned === '' ? '/' : pruned;
}

export const joinCgroup = (mountpoint: string, ...parts: string[]): string =>
  [mountpoint, ...parts].join('/').replace(/\/{2,}/g, '/').replace(/\/$/, '');
