/**
 * lxc.mount.auto = cgroup[:mixed|:ro|:rw][:force] and cgroup-full[…]: the
 * container's view of /sys/fs/cgroup, with LXC's rules (cgfsng_mount):
 *
 * - In a cgroup namespace, a container that keeps CAP_SYS_ADMIN mounts its
 *   cgroups itself (its init does), so nothing is done unless `:force` —
 *   except on a pure unified host, where cgroup2 is always mounted for it.
 *   Otherwise each hierarchy's cgroupfs is mounted directly: in the
 *   namespace it shows the container's own subtree only (`:ro` read-only).
 * - Without one, each hierarchy is bind-mounted from the host: `cgroup`
 *   binds only the container's own cgroup at its full path (so that
 *   /proc/self/cgroup paths resolve), `cgroup-full` the whole hierarchy;
 *   `mixed` keeps everything read-only but the container's own cgroup.
 *
 * v1 hierarchies go on a tmpfs at /sys/fs/cgroup under their host names
 * (memory, cpu,cpuacct, systemd, unified), with a symlink per co-mounted
 * controller. The tmpfs itself stays writable, as LXC 5.0 leaves it. What
 * lxkit mounts itself has LXC's source name, none.
 */
import { LxkitError, MS, type CgroupPlacement, type ContainerConfig, type StartContext } from '@lxkit/core';

const FLAGS = MS.NOSUID | MS.NODEV | MS.NOEXEC;

function origin(config: ContainerConfig) {
  const e = config.last('lxc.mount.auto');
  return e ? { origin: { file: e.file, line: e.line, key: e.key } } : {};
}

/** Whether CAP_SYS_ADMIN survives lxc.cap.drop / lxc.cap.keep (read here: the caps plugin may be absent). */
export function keepsSysAdmin(config: ContainerConfig): boolean {
  let drop = new Set<string>();
  let keep: Set<string> | undefined;
  const names = (v: string) => v.split(/\s+/).filter(Boolean).map((n) => n.toLowerCase().replace(/^cap_/, ''));
  for (const e of config.entries) {
    if (e.key === 'lxc.cap.drop') drop = e.value === '' ? new Set() : new Set([...drop, ...names(e.value)]);
    else if (e.key === 'lxc.cap.keep') keep = e.value === '' ? undefined : new Set([...(keep ?? []), ...names(e.value)]);
  }
  // 21: CAP_SYS_ADMIN's number, which the keys accept as well.
  if (keep) return keep.has('sys_admin') || keep.has('21');
  return !drop.has('sys_admin') && !drop.has('21');
}

const baseName = (mountpoint: string) => mountpoint.slice(mountpoint.lastIndexOf('/') + 1);

/** mount(2) data for a hierarchy's cgroupfs: its controllers; `none,` first for a named-only one. */
function cgroupfsData(p: CgroupPlacement): string {
  const all = p.controllers.join(',');
  return p.controllers.every((c) => c.startsWith('name=')) ? `none,${all}` : all;
}

export function cgroupMountOps(ctx: StartContext, placement: readonly CgroupPlacement[] | undefined): void {
  const config = ctx.container.config;
  const auto = config.model.mount.auto.cgroup;
  if (!auto) return;
  const o = origin(config);
  const fail = (message: string) =>
    new LxkitError('LXKIT_START_FAILED', `lxc.mount.auto cgroup: ${message}`, {
      container: ctx.container.name,
      key: 'lxc.mount.auto',
      ...(o.origin ? { file: o.origin.file, line: o.origin.line } : {}),
    });
  if (!placement || placement.length === 0) throw fail('the container has no cgroups to mount (no cgroup hierarchy on this host)');
  const unifiedOnly = placement.every((p) => p.version === 2);
  const cgns = ctx.namespaceNames.has('cgroup');
  const force = auto.force || !keepsSysAdmin(config) || unifiedOnly;
  if (cgns && !force) {
    ctx.log.debug('lxc.mount.auto cgroup: the container has a cgroup namespace and CAP_SYS_ADMIN, its init mounts its cgroups (add :force to have lxkit do it)');
    return;
  }
  const mode = auto.mode === 'default' ? 'mixed' : auto.mode;
  const ro = mode === 'ro' ? MS.RDONLY : 0;

  if (unifiedOnly && cgns) {
    ctx.ops.mount({ source: 'none', target: 'sys/fs/cgroup', fstype: 'cgroup2', flags: FLAGS | ro, inRoot: true, create: 'dir' }, { what: 'mounting cgroup2 on /sys/fs/cgroup', ...o });
    return;
  }

  // The unified hierarchy alone is /sys/fs/cgroup itself; a tmpfs holds the path to the container's own cgroup unless the whole hierarchy is bound there.
  if (!(unifiedOnly && auto.full)) {
    ctx.ops.mount(
      { source: 'none', target: 'sys/fs/cgroup', fstype: 'tmpfs', flags: FLAGS | MS.RELATIME, data: 'size=10240k,mode=755', inRoot: true, create: 'dir' },
      { what: 'mounting a tmpfs on /sys/fs/cgroup', ...o },
    );
  }
  for (const p of placement) {
    const name = baseName(p.mountpoint);
    const at = unifiedOnly ? 'sys/fs/cgroup' : `sys/fs/cgroup/${name}`;
    const what = `mounting the ${name} cgroup hierarchy on /${at}`;
    if (cgns) {
      // In the namespace, the kernel shows the container's own subtree.
      const fs = p.version === 2 ? { fstype: 'cgroup2' } : { fstype: 'cgroup', data: cgroupfsData(p) };
      ctx.ops.mount({ source: 'none', target: at, ...fs, flags: FLAGS | ro, inRoot: true, create: 'dir' }, { what, ...o });
    } else if (auto.full) {
      const whole = mode === 'rw' ? 0 : MS.RDONLY;
      ctx.ops.mount({ source: p.mountpoint, target: at, flags: MS.BIND, remount: FLAGS | whole, inRoot: true, create: 'dir' }, { what, ...o });
      if (mode === 'mixed') {
        const own = `${at}${p.init.slice(p.mountpoint.length)}`;
        ctx.ops.mount({ source: p.init, target: own, flags: MS.BIND, remount: FLAGS, inRoot: true }, { what: `making the container's own cgroup writable in /${at}`, ...o });
      }
    } else {
      // As LXC: the hierarchy's directory bound read-only on itself (not in `rw` mode), the
      // container's own cgroup bound from the host in it, with the flags its mount has.
      const own = `${at}${p.init.slice(p.mountpoint.length)}`;
      ctx.ops.mkdir(own, { inRoot: true, parents: true, mode: 0o755 }, { what, ...o });
      if (mode !== 'rw') {
        ctx.ops.mount(
          { source: at, target: at, flags: MS.BIND, remount: FLAGS | MS.RDONLY | MS.RELATIME, inRoot: true, sourceInRoot: true },
          { what: `making /${at} read-only`, ...o },
        );
      }
      ctx.ops.mount({ source: p.init, target: own, flags: MS.BIND, remount: ro | MS.RELATIME, inRoot: true }, { what, ...o });
    }
    if (p.version === 1 && p.controllers.length > 1) {
      for (const c of p.controllers) {
        const link = c.replace(/^name=/, '');
        if (link !== name) ctx.ops.symlink(name, `sys/fs/cgroup/${link}`, { inRoot: true }, { what: `linking /sys/fs/cgroup/${link} to ${name}`, ...o });
      }
    }
  }
}

