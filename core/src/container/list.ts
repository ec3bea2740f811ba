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

/** Every container of the lxcpath with its state and what its config and monitor say, in name order. */
export async function containerInfos(runtime: Runtime, lxcpath: string, opts: { use?: boolean } = {}): Promise<ContainerInfo[]> {
  const defined = new Set(await listContainers(lxcpath));
  const names = [...new Set([...defined, ...(await lockedContainers(lxcpath))])].sort();
  return Promise.all(
    names.map(async (name): Promise<ContainerInfo> => {
      const paths = containerPaths(lxcpath, name);
      const running = new RunningContainer(paths.command, name);
      const status = await running.status();
      const addresses = status?.state === 'RUNNING' ? ((await running.addresses()) ?? []) : [];
      const live = addresses.filter((a) => a.iface !== 'lo');
      const config = defined.has(name) ? await loadContainerConfig(runtime, { path: paths.config }).catch(() => undefined) : undefined;
      const model = config?.model;
      const use = opts.use && status ? await running.cgroupUse() : undefined;
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
