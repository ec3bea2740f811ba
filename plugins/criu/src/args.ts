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

export interface CriuSettings {
  /** The criu program. */
  readonly criu: string;
  /** How criu cuts the container's network off while it dumps it (criu's --network-lock); undefined: criu's default. */
  readonly networkLock: 'nftables' | 'iptables' | undefined;
}

type Action = 'dump' | 'pre-dump' | 'restore';

/** Network types criu brings back as they were: a namespace with only its loopback, or the host's. */
const NETWORKS = new Set(['empty', 'none']);

interface NetDeviceLike {
  readonly index: number;
  readonly type?: string;
}

/** Why criu (through lxkit) cannot carry this container, naming the key; undefined when it can. */
export function unsupported(config: ContainerConfig): string | undefined {
  const model = config.model;
  const at = (key: string) => {
    const e = config.last(key);
    return e ? ` (${e.file}:${e.line})` : '';
  };
  if (model.console.path !== 'none') {
    return `its console is a pty of its monitor's, which a restore cannot hand back yet: set lxc.console.path = none${at('lxc.console.path')}`;
  }
  if (model.tty.max > 0) return `lxc.tty.max = ${model.tty.max}${at('lxc.tty.max')}: its ttys are ptys of its monitor's, which a restore cannot hand back yet (set it to 0)`;
  if (model.idmap.length > 0) return `lxc.idmap${at('lxc.idmap')}: unprivileged containers are not checkpointed (as with LXC, only root's own)`;
  const devices = (model as { net?: { devices: readonly NetDeviceLike[] } }).net?.devices ?? [];
  for (const d of devices) {
    if (d.type !== undefined && !NETWORKS.has(d.type)) {
      return `lxc.net.${d.index}.type = ${d.type}${at(`lxc.net.${d.index}.type`)}: only empty and none networks are restored yet`;
    }
  }
  return undefined;
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

/** criu dump (or pre-dump) of the container whose init is `req.pid`. */
export function dumpArgs(req: CheckpointDump, s: CriuSettings, roots: readonly string[], freezer: string | undefined): string[] {
  const action: Action = req.preDump ? 'pre-dump' : 'dump';
  return [
    ...common(action, req, roots),
    ...bindMountMaps(req.container.config, action),
    '--tree',
    String(req.pid),
    ...(freezer !== undefined ? ['--freeze-cgroup', freezer] : []),
    '--skip-in-flight',
    ...(s.networkLock ? ['--network-lock', s.networkLock] : []),
    ...(req.previous !== undefined ? ['--prev-images-dir', req.previous] : []),
    // Inotify watches are found again by path: the inodes may differ after a copy of the rootfs.
    '--force-irmap',
    ...(action === 'dump' && !req.stop ? ['--leave-running'] : []),
  ];
}

/** criu restore onto `req.rootfs`, the init written to `pidFile` and made the monitor's child. */
export function restoreArgs(req: CheckpointRestore, roots: readonly string[], pidFile: string): string[] {
  return [
    ...common('restore', req, roots),
    ...bindMountMaps(req.container.config, 'restore'),
    '--root',
    req.rootfs,
    '--restore-detached',
    '--restore-sibling',
    '--pidfile',
    pidFile,
  ];
}
