/**
 * The containers of an lxcpath, as lxc-ls sees them: the defined ones (a
 * directory with a config) and the running ones (their lock is held), each
 * with what lxc-ls --fancy shows.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runtime } from '../runtime.js';
import { loadContainerConfig } from '../config/load.js';
import type { ContainerState } from '../start/protocol.js';
import { lockedContainers } from './active.js';
import { isContainerName } from './name.js';
import { containerPaths } from './paths.js';
import { cgroupUse, type CgroupUse } from '../cgroup/files.js';
import { RunningContainer } from './running.js';

/** Defined containers of an lxcpath: directories with a container's name holding a config file, in name order. */
export async function listContainers(lxcpath: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(lxcpath);
  } catch {
    return [];
  }
  return names.filter((n) => isContainerName(n) && existsSync(join(lxcpath, n, 'config'))).sort();
}

export interface ContainerInfo {
  readonly name: string;
  readonly state: ContainerState;
  readonly defined: boolean;
  readonly pid: number | undefined;
  readonly autostart: boolean;
  readonly groups: readonly string[];
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
  readonly interfaces: readonly string[];
  readonly unprivileged: boolean;
  /** Memory and swap in use (from the container's cgroups), when asked for and known. */
  readonly memoryBytes?: number;
  readonly swapBytes?: number;
}

/**
 * Where an lxcpath's containers are looked at from: the host, or the inside
 * of a running container, whose containers are nested in it (lxc-ls
 * --nesting). Its files are reached from the host through /proc/PID/root,
 * its monitors through its network namespace; this process enters neither.
 */
export interface ContainerView {
  /** Its mount namespace's / as the host reaches it: '' on the host, /proc/PID/root (…/proc/PID/root deeper down). */
  readonly root: string;
  /** Its procfs as the host reaches it. */
  readonly proc: string;
  /** Its network namespace's file, where the monitors of its containers listen; undefined: this process's. */
  readonly netns?: string | undefined;
  /** The run directory of the lxkit that runs its containers: this process's on the host, root's default (/run/lxkit) inside. */
  readonly runDir?: string | undefined;
}

export const HOST_VIEW: ContainerView = { root: '', proc: '/proc' };

/** The inside of a running container whose init is `pid` in `outer`: what its own procfs (mounted at /proc) and namespaces show. */
export function nestedView(outer: ContainerView, pid: number): ContainerView {
  const root = `${outer.proc}/${pid}/root`;
  return { root, proc: `${root}/proc`, netns: `${outer.proc}/${pid}/ns/net`, runDir: ROOT_RUN_DIR };
}

const ROOT_RUN_DIR = '/run/lxkit';

/** Every container of the lxcpath with its state and what its config and monitor say, in name order. */
export async function containerInfos(runtime: Runtime, lxcpath: string, opts: { use?: boolean; view?: ContainerView } = {}): Promise<ContainerInfo[]> {
  const view = opts.view ?? HOST_VIEW;
  const defined = new Set(await listContainers(view.root + lxcpath));
  const names = [...new Set([...defined, ...(await lockedContainers(lxcpath, view))])].sort();
  return Promise.all(
    names.map(async (name): Promise<ContainerInfo> => {
      const paths = containerPaths(lxcpath, name, view.runDir);
      const running = new RunningContainer(paths.command, name, { netns: view.netns });
      const status = await running.status();
      const addresses = status?.state === 'RUNNING' ? ((await running.addresses()) ?? []) : [];
      const live = addresses.filter((a) => a.iface !== 'lo');
      // Inside a container, its includes name files of its own: the host's may differ (the config is read for lxc.start.auto, lxc.group and lxc.idmap).
      const config = defined.has(name) ? await loadContainerConfig(runtime, { path: view.root + paths.config }).catch(() => undefined) : undefined;
      const model = config?.model;
      const use = opts.use && status ? await useOf(running, view) : undefined;
      const swap = use?.swapBytes ?? (use?.memswBytes !== undefined && use.memoryBytes !== undefined ? Math.max(0, use.memswBytes - use.memoryBytes) : undefined);
      return {
        name,
        state: status?.state ?? 'STOPPED',
        defined: defined.has(name),
        pid: status?.pid,
        autostart: model?.autostart.auto ?? false,
        groups: model?.autostart.groups ?? [],
        ipv4: live.filter((a) => a.family === 'inet').map((a) => a.address.replace(/\/[0-9]+$/, '')),
        ipv6: live.filter((a) => a.family === 'inet6' && !a.address.startsWith('fe80:')).map((a) => a.address.replace(/\/[0-9]+$/, '')),
        interfaces: [...new Set(live.map((a) => a.iface))],
        unprivileged: (model?.idmap.length ?? 0) > 0,
        ...(use?.memoryBytes !== undefined ? { memoryBytes: use.memoryBytes } : {}),
        ...(swap !== undefined ? { swapBytes: swap } : {}),
      };
    }),
  );
}

/** The cgroups' use, read where the view's mount namespace has them (a nested monitor names them as it sees them). */
async function useOf(running: RunningContainer, view: ContainerView): Promise<CgroupUse | undefined> {
  if (view.root === '') return running.cgroupUse();
  const dirs = await running.cgroups();
  return dirs ? cgroupUse(dirs.map((d) => ({ ...d, limit: view.root + d.limit, init: view.root + d.init }))) : undefined;
}

/** A container of nestedContainerInfos: how deep it is (0: the lxcpath's own), and the names of the containers it is nested in. */
export interface NestedContainerInfo extends ContainerInfo {
  readonly level: number;
  readonly parents: readonly string[];
}

/**
 * lxc-ls --nesting: the lxcpath's containers, each followed by the
 * containers nested in it (the same lxcpath, inside it) while it runs, down
 * to `levels` deep. `shown` filters every level, and only a container shown
 * is looked into, as lxc-ls does. A frozen one is not: its monitors cannot
 * answer. A container that cannot be looked into (this user may not enter
 * its network namespace) is told to `skipped` and its nested ones left out,
 * as lxc-ls leaves them out; without `skipped` that is an error.
 */
export async function nestedContainerInfos(
  runtime: Runtime,
  lxcpath: string,
  opts: { levels: number; use?: boolean; shown?: (c: ContainerInfo) => boolean; skipped?: (container: string, err: Error) => void },
): Promise<NestedContainerInfo[]> {
  const walk = async (view: ContainerView, level: number, parents: readonly string[]): Promise<NestedContainerInfo[]> => {
    const out: NestedContainerInfo[] = [];
    for (const c of await containerInfos(runtime, lxcpath, { view, ...(opts.use ? { use: true } : {}) })) {
      if (opts.shown && !opts.shown(c)) continue;
      out.push({ ...c, level, parents });
      if (level >= opts.levels || c.state !== 'RUNNING' || c.pid === undefined) continue;
      const path = [...parents, c.name];
      try {
        out.push(...(await walk(nestedView(view, c.pid), level + 1, path)));
      } catch (err) {
        if (!opts.skipped) throw err;
        opts.skipped(path.join('/'), err as Error);
      }
    }
    return out;
  };
  return walk(HOST_VIEW, 0, []);
}
