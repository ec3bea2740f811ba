/**
 * Which namespaces a container gets: LXC's defaults (mount, pid, uts, ipc,
 * net, cgroup; user when lxc.idmap is set), lxc.namespace.clone/keep (with
 * keep, time is new too, as with LXC), the
 * host's network for `lxc.net.N.type = none`, and lxc.namespace.share.*
 * joined instead of created.
 */
import { existsSync } from 'node:fs';
import type { ContainerConfig } from '../config/container-config.js';
import type { NamespaceName } from '../config/core-keys/model.js';
import { LxkitError } from '../errors.js';

export const CLONE_FLAGS: Readonly<Record<NamespaceName, number>> = {
  cgroup: 0x02000000,
  ipc: 0x08000000,
  mnt: 0x00020000,
  net: 0x40000000,
  pid: 0x20000000,
  time: 0x00000080,
  user: 0x10000000,
  uts: 0x04000000,
};

const DEFAULT: NamespaceName[] = ['mnt', 'pid', 'uts', 'ipc', 'net', 'cgroup'];

/**
 * With lxc.namespace.keep LXC makes every namespace it does not keep: the
 * time namespace too, where the kernel has one. And the user namespace,
 * which lxkit makes only for lxc.idmap: without maps LXC's fails the start.
 */
const UNLESS_KEPT: NamespaceName[] = existsSync('/proc/self/ns/time') ? [...DEFAULT, 'time'] : DEFAULT;

export interface NamespacePlan {
  /** Namespaces created by the clone. */
  readonly clone: NamespaceName[];
  /** Namespaces joined: name → namespace file. */
  readonly share: Partial<Record<NamespaceName, string>>;
  readonly flags: number;
}

/** lxc.namespace.share.<ns> = container name | pid | path to a namespace file. */
async function sharePath(ns: NamespaceName, value: string, lxcpath: string, pidOf: PidOf): Promise<string> {
  if (value.startsWith('/')) return value;
  if (/^[0-9]+$/.test(value)) return `/proc/${value}/ns/${ns}`;
  const pid = await pidOf(lxcpath, value);
  if (pid === undefined) {
    throw new LxkitError('LXKIT_START_FAILED', `lxc.namespace.share.${ns} = ${value}: no running container "${value}" in ${lxcpath}`, {
      key: `lxc.namespace.share.${ns}`,
    });
  }
  return `/proc/${pid}/ns/${ns}`;
}

/** A running container's init pid (asked of its monitor). */
export type PidOf = (lxcpath: string, name: string) => Promise<number | undefined>;

/** The namespaces a container has from the config alone: the ones it creates, then the ones it joins. */
export function namespaceNames(config: ContainerConfig): { clone: NamespaceName[]; share: NamespaceName[] } {
  const model = config.model;
  const ns = model.namespaces;
  let clone = ns.clone.length > 0 ? [...ns.clone] : ns.keep.length > 0 ? UNLESS_KEPT.filter((n) => !ns.keep.includes(n)) : [...DEFAULT];
  if (model.idmap.length > 0 && !ns.keep.includes('user') && !clone.includes('user')) clone.push('user');
  // lxc.net.N.type = none: the container uses the host's network namespace (read from the
  // entries: the namespace decision is the core's, whichever plugin handles networks).
  const hostNet = config.entries.some((e) => /^lxc\.net\.[0-9]+\.type$/.test(e.key) && e.value === 'none');
  if (hostNet) clone = clone.filter((n) => n !== 'net');
  const share = Object.keys(ns.share) as NamespaceName[];
  return { clone: clone.filter((n) => !share.includes(n)), share };
}

/**
 * Whether a start of `config` has the monitor make its network namespace
 * ahead of the clone: a new one, made by root, without a user namespace (a
 * network namespace belongs to the user namespace that made it).
 */
export function netnsMadeAhead(config: ContainerConfig): boolean {
  const { clone, share } = namespaceNames(config);
  return clone.includes('net') && !clone.includes('user') && !share.includes('user') && process.getuid?.() === 0;
}

export async function namespacePlan(config: ContainerConfig, lxcpath: string, pidOf: PidOf): Promise<NamespacePlan> {
  const { clone } = namespaceNames(config);
  const share: Partial<Record<NamespaceName, string>> = {};
  for (const [name, value] of Object.entries(config.model.namespaces.share) as [NamespaceName, string][]) {
    share[name] = await sharePath(name, value, lxcpath, pidOf);
  }
  if (!clone.includes('mnt')) {
    throw new LxkitError('LXKIT_START_FAILED', 'the container needs its own mount namespace: mnt cannot be kept or shared', {
      key: 'lxc.namespace.keep',
    });
  }
  const flags = clone.reduce((f, n) => f | CLONE_FLAGS[n], 0);
  return { clone, share, flags };
}
