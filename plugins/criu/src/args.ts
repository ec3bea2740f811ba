/**
 * criu's command lines for lxkit checkpoint, as LXC builds them
 * (lxc-checkpoint): TCP connections, file locks and unlinked files carried,
 * cgroups managed (the container's own, given as --cgroup-root), mounts
 * from outside the container found by criu itself (--ext-mount-map auto)
 * and the configured bind mounts mapped by name, so that a restore may bind
 * them from wherever they are then. A restore makes the restored init the
 * restorer's sibling: the monitor that runs criu becomes its parent.
 */
import type { CheckpointDump, CheckpointRestore, ContainerConfig } from '@lxkit/core';
import { planDevices, randomName, vethHostSideKeys, type NetDevice } from '@lxkit/plugin-net';
import { dumpPtyArgs, restorePtyArgs, type CheckpointedPty } from './ptys.js';

export interface CriuSettings {
  /** The criu program. */
  readonly criu: string;
  /** How criu cuts the container's network off while it dumps it (criu's --network-lock); undefined: criu's default. */
  readonly networkLock: 'nftables' | 'iptables' | undefined;
}

type Action = 'dump' | 'pre-dump' | 'restore';

/**
 * Network types criu brings back: a namespace with only its loopback, the
 * host's, and a device with its far end outside that criu makes again
 * (--external veth[…], macvlan[…]). Addresses, routes and MTU inside are
 * criu's to restore; what lxkit set up on the host side beyond the device
 * and its bridge is not, and is refused.
 */
const NETWORKS = new Set(['empty', 'none', 'veth', 'macvlan']);

/** Why criu (through lxkit) cannot carry this container, naming the key; undefined when it can. */
export function unsupported(config: ContainerConfig): string | undefined {
  // As lxc-checkpoint: criu reads and makes processes, namespaces and mounts as the host's root only.
  if (process.geteuid?.() !== 0) return "criu runs as the host's root only: run lxkit checkpoint as root (as lxc-checkpoint)";
  const model = config.model;
  const at = (key: string) => {
    const e = config.last(key);
    return e ? ` (${e.file}:${e.line})` : '';
  };
  for (const d of netDevices(config)) {
    if (d.type === undefined) continue;
    if (!NETWORKS.has(d.type)) {
      return `lxc.net.${d.index}.type = ${d.type}${at(`lxc.net.${d.index}.type`)}: only empty, none, veth and macvlan networks are restored yet`;
    }
    if (d.type === 'macvlan' && d.link === undefined) return `lxc.net.${d.index}.type = macvlan${at(`lxc.net.${d.index}.type`)}: a restore makes the macvlan on lxc.net.${d.index}.link, and none is set`;
    if (d.type !== 'veth') continue;
    const [key] = vethHostSideKeys(d);
    if (key) return `lxc.net.${d.index}.${key.sub}${at(`lxc.net.${d.index}.${key.sub}`)}: a restore makes the veth again, but not ${key.what}`;
  }
  return undefined;
}

/** The container's networks (the net plugin's model; none without it). */
const netDevices = (config: ContainerConfig): readonly NetDevice[] => (config.model as { net?: { devices: readonly NetDevice[] } }).net?.devices ?? [];

/** A device criu makes again at a restore, outside the container: its name inside, and the host end's name (a veth's). */
export interface OuterDevice {
  readonly index: number;
  readonly type: 'veth' | 'macvlan';
  readonly inside: string;
  /** A veth's host end (lxc.net.N.veth.pair, else a new vethXXXXXX); a macvlan's parent. */
  readonly outside: string;
  /** The bridge a veth's host end goes on. */
  readonly bridge: string | undefined;
}

/** The devices of `config` a restore makes outside the container, named as the start named them (planDevices). */
export function outerDevices(config: ContainerConfig, container: string): OuterDevice[] {
  return planDevices([...netDevices(config)], config, container).flatMap((p): OuterDevice[] => {
    const { dev } = p;
    if (dev.type === 'veth') return [{ index: dev.index, type: 'veth', inside: p.name, outside: dev.veth.pair ?? randomName('veth'), bridge: dev.link }];
    if (dev.type === 'macvlan') return [{ index: dev.index, type: 'macvlan', inside: p.name, outside: dev.link!, bridge: undefined }];
    return [];
  });
}

/** criu's --external for each device made outside: a veth with its host end's name and bridge, a macvlan with its parent. */
export function externalDevices(devices: readonly OuterDevice[]): string[] {
  return devices.flatMap((d) => ['--external', `${d.type}[${d.inside}]:${d.outside}${d.bridge !== undefined ? `@${d.bridge}` : ''}`]);
}

/** `mnt` with one leading slash, as criu names a mount point inside the container. */
const inside = (target: string) => `/${target.replace(/^\/+/, '')}`;

/**
 * --ext-mount-map for each configured bind mount (lxc.mount.entry with bind
 * or rbind, whose source is the host's): at a dump, the mount point names
 * the mount (`/dev/shm:dev/shm`); at a restore, that name is bound from the
 * source again.
 */
export function bindMountMaps(config: ContainerConfig, action: Action): string[] {
  const out: string[] = [];
  for (const e of config.model.mount.entries) {
    if (e.relative || !e.options.some((o) => o === 'bind' || o === 'rbind')) continue;
    const key = inside(e.target).slice(1);
    out.push('--ext-mount-map', action === 'restore' ? `${key}:${e.source}` : `${inside(e.target)}:${key}`);
  }
  return out;
}

function common(action: Action, req: { directory: string; verbose: boolean; actionScript?: string }, roots: readonly string[]): string[] {
  return [
    action,
    '--tcp-established',
    '--file-locks',
    '--link-remap',
    '--manage-cgroups=full',
    '--ext-mount-map',
    'auto',
    '--enable-external-sharing',
    '--enable-external-masters',
    '--enable-fs',
    'hugetlbfs',
    '--enable-fs',
    'tracefs',
    '--images-dir',
    req.directory,
    '--log-file',
    logFile(req.directory, action),
    ...roots.flatMap((r) => ['--cgroup-root', r]),
    ...(req.verbose ? ['-v4'] : []),
    ...(req.actionScript !== undefined ? ['--action-script', req.actionScript] : []),
  ];
}

/** Where criu's log of an action goes: the checkpoint's directory, as LXC has it. */
export const logFile = (directory: string, action: Action) => `${directory}/${action}.log`;

/** criu dump (or pre-dump) of the container whose init is `req.pid`, whose console and ttys are `ptys`. */
export function dumpArgs(req: CheckpointDump, s: CriuSettings, roots: readonly string[], freezer: string | undefined, ptys: readonly CheckpointedPty[] = []): string[] {
  const action: Action = req.preDump ? 'pre-dump' : 'dump';
  return [
    ...common(action, req, roots),
    ...bindMountMaps(req.container.config, action),
    ...dumpPtyArgs(ptys),
    '--tree',
    String(req.pid),
    ...(freezer !== undefined ? ['--freeze-cgroup', freezer] : []),
    ...(req.skipInFlight ? ['--skip-in-flight'] : []),
    ...(s.networkLock ? ['--network-lock', s.networkLock] : []),
    ...(req.previous !== undefined ? ['--prev-images-dir', req.previous] : []),
    ...(req.pageServer !== undefined ? ['--page-server', '--address', req.pageServer.address, '--port', String(req.pageServer.port)] : []),
    // Inotify watches are found again by path, unless the restore keeps the inodes: a copy of the rootfs has others.
    ...(req.preservesInodes ? [] : ['--force-irmap']),
    ...(req.ghostLimit !== undefined ? ['--ghost-limit', String(req.ghostLimit)] : []),
    ...(action === 'dump' && !req.stop ? ['--leave-running'] : []),
  ];
}

/** criu restore onto `req.rootfs`, the init written to `pidFile` and made the monitor's child; the checkpoint's console and ttys are `ptys`, opened anew. */
export function restoreArgs(
  req: CheckpointRestore,
  roots: readonly string[],
  pidFile: string,
  devices: readonly OuterDevice[] = [],
  ptys: Parameters<typeof restorePtyArgs>[0] = [],
): string[] {
  return [
    ...common('restore', req, roots),
    ...bindMountMaps(req.container.config, 'restore'),
    ...restorePtyArgs(ptys),
    ...externalDevices(devices),
    '--root',
    req.rootfs,
    '--restore-detached',
    '--restore-sibling',
    '--pidfile',
    pidFile,
  ];
}
