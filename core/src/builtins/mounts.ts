/**
 * The container's mounts, first on the mount hook (site mount scripts run
 * after them): /dev as tmpfs (lxc.autodev), lxc.mount.auto proc and sys,
 * lxc.sysctl, then (after the cgroup plugin's lxc.mount.auto cgroup mounts)
 * lxc.mount.fstab and lxc.mount.entry, in LXC's order. Every
 * target resolves beneath the container's root.
 */
import { readFile } from 'node:fs/promises';
import { resolve as resolvePath, dirname } from 'node:path';
import type { ContainerConfig } from '../config/container-config.js';
import type { MountEntry } from '../config/core-keys/model.js';
import { parseMountEntry } from '../config/core-keys/mount.js';
import { ConfigValueError } from '../config/values.js';
import { LxkitError } from '../errors.js';
import type { StartContext } from '../hooks/contexts.js';
import { STAGE_FIRST, STAGE_MOUNT_ENTRIES } from '../hooks/stages.js';
import { definePlugin } from '../plugin/define.js';
import { MS, parseMountOptions } from '../start/mount-options.js';
import { VERSION } from '../version.js';

const PROC_FLAGS = MS.NOSUID | MS.NODEV | MS.NOEXEC;

function origin(config: ContainerConfig, key: string) {
  const e = config.last(key);
  return e ? { origin: { file: e.file, line: e.line, key: e.key } } : {};
}

/** lxc.mount.auto proc[:mixed|:rw]. */
function mountProc(ctx: StartContext): void {
  const mode = ctx.container.config.model.mount.auto.proc;
  if (!mode) return;
  const o = origin(ctx.container.config, 'lxc.mount.auto');
  ctx.ops.mount({ source: 'proc', target: 'proc', fstype: 'proc', flags: PROC_FLAGS, inRoot: true, create: 'dir' }, { what: 'mounting proc on /proc', ...o });
  writeSysctls(ctx, true);
  if (mode !== 'mixed') return;
  // proc:mixed: /proc/sys read-only but /proc/sys/net writable, /proc/sysrq-trigger read-only.
  // As LXC: a writable bind of /proc/sys/net waits on /proc/net (the first process's own net
  // directory) while /proc/sys becomes a read-only bind, then moves to /proc/sys/net.
  const what = 'making /proc/sys and /proc/sysrq-trigger read-only (proc:mixed)';
  ctx.ops.mount({ source: 'proc/sys/net', target: 'proc/net', flags: MS.BIND, inRoot: true, sourceInRoot: true, optional: true }, { what, ...o });
  ctx.ops.mount({ source: 'proc/sys', target: 'proc/sys', flags: MS.BIND, remount: MS.RDONLY, inRoot: true, sourceInRoot: true }, { what, ...o });
  ctx.ops.mount({ source: 'proc/net', target: 'proc/sys/net', flags: MS.MOVE, inRoot: true, sourceInRoot: true, optional: true }, { what, ...o });
  ctx.ops.mount(
    { source: 'proc/sysrq-trigger', target: 'proc/sysrq-trigger', flags: MS.BIND, remount: MS.RDONLY, inRoot: true, sourceInRoot: true, optional: true },
    { what, ...o },
  );
}

/** lxc.mount.auto sys[:ro|:mixed|:rw]. */
function mountSys(ctx: StartContext): void {
  const mode = ctx.container.config.model.mount.auto.sys;
  if (!mode) return;
  const o = origin(ctx.container.config, 'lxc.mount.auto');
  const flags = PROC_FLAGS | (mode === 'ro' ? MS.RDONLY : 0);
  ctx.ops.mount({ source: 'sysfs', target: 'sys', fstype: 'sysfs', flags, inRoot: true, create: 'dir' }, { what: 'mounting sysfs on /sys', ...o });
  if (mode !== 'mixed') return;
  // sys:mixed: read-only, except /sys/devices/virtual/net, which keeps a writable bind of its own.
  // As LXC: the sysfs mount itself is remounted read-only. A read-only bind over it would leave
  // the writable sysfs beneath, there for the container's root to unmount its way back to.
  const what = 'making /sys read-only except /sys/devices/virtual/net (sys:mixed)';
  ctx.ops.mount(
    { source: 'sys/devices/virtual/net', target: 'sys/devices/virtual/net', flags: MS.BIND, inRoot: true, sourceInRoot: true, optional: true },
    { what, ...o },
  );
  ctx.ops.mount({ source: '', target: 'sys', flags: MS.REMOUNT | MS.BIND | MS.RDONLY | PROC_FLAGS, inRoot: true }, { what, ...o });
}

/**
 * lxc.sysctl.*: written through the container's /proc when it has one (before
 * proc:mixed makes it read-only), else through /proc of the first process,
 * which sees the container's namespaces either way.
 */
function writeSysctls(ctx: StartContext, containerProc: boolean): void {
  const config = ctx.container.config;
  for (const [key, value] of Object.entries(config.model.sysctl)) {
    const rel = `proc/sys/${key.replaceAll('.', '/')}`;
    ctx.ops.write(containerProc ? rel : `/${rel}`, value, { inRoot: containerProc }, {
      what: `setting sysctl ${key}`,
      ...origin(config, `lxc.sysctl.${key}`),
    });
  }
}

/**
 * An entry's target in the container, as LXC reads it: relative to the rootfs; an absolute one
 * (older configs write /var/lib/lxc/c1/rootfs/srv) names a place below `<lxcpath>/<name>/rootfs`
 * or below the rootfs path, and any other absolute target is not mounted (LXC warns and goes on).
 * Without a rootfs, targets are the host's paths.
 */
function entryTarget(ctx: StartContext, target: string): string | undefined {
  if (!target.startsWith('/') || !ctx.rootfs) return target;
  const { lxcpath, name } = ctx.container;
  for (const prefix of [`${lxcpath}/${name}/rootfs`, ctx.rootfs.path]) {
    const base = prefix.replace(/\/+$/, '');
    if (target === base || target.startsWith(`${base}/`)) return target.slice(base.length).replace(/^\/+/, '') || '.';
  }
  return undefined;
}

/**
 * One fstab-style entry (lxc.mount.entry, a line of lxc.mount.fstab, or one a
 * plugin adds for its key): `key` is what its errors name.
 */
export function mountEntry(ctx: StartContext, e: MountEntry, key: string): void {
  const o = parseMountOptions(e.options);
  const target = entryTarget(ctx, e.target);
  if (target === undefined) {
    ctx.log.warn(
      `${e.origin.file}:${e.origin.line}: ${key}: not mounting ${e.source} on ${e.target}: an absolute target must be below the rootfs (${ctx.rootfs!.path}), as LXC reads it; write it relative to the rootfs`,
    );
    return;
  }
  const info = {
    what: `mounting ${e.source} on /${target.replace(/^\/+/, '')}`,
    origin: { file: e.origin.file, line: e.origin.line, key },
  };
  const fstype = e.fstype === 'none' && o.flags & MS.BIND ? '' : e.fstype;
  ctx.ops.mount(
    {
      source: e.source,
      target,
      fstype,
      data: o.data,
      flags: o.flags,
      ...(o.remount ? { remount: o.remount } : {}),
      inRoot: true,
      optional: e.optional,
      sourceInRoot: e.relative,
      ...(e.create ? { create: e.create } : {}),
    },
    info,
  );
  if (o.propagation) {
    ctx.ops.mount({ source: '', target, flags: o.propagation, inRoot: true, optional: e.optional }, info);
  }
}

async function fstabEntries(config: ContainerConfig): Promise<MountEntry[]> {
  const fstab = config.model.mount.fstab;
  if (!fstab) return [];
  const file = resolvePath(config.path ? dirname(config.path) : process.cwd(), fstab);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new LxkitError('LXKIT_START_FAILED', `cannot read lxc.mount.fstab ${file}: ${(err as NodeJS.ErrnoException).code}`, {
      cause: err,
      key: 'lxc.mount.fstab',
      path: file,
    });
  }
  const out: MountEntry[] = [];
  text.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    try {
      out.push(parseMountEntry(t, { file, line: i + 1 }));
    } catch (err) {
      if (!(err instanceof ConfigValueError)) throw err;
      throw new LxkitError('LXKIT_CONFIG_INVALID', `${file}:${i + 1}: ${err.message}`, { file, line: i + 1, key: 'lxc.mount.fstab' });
    }
  });
  return out;
}

export const mountsPlugin = definePlugin({
  name: 'mounts',
  version: VERSION,
  replayable: true,
  apply(runtime) {
    // Its ops follow from the config (and the fstab files) alone.
    runtime.hooks.cloneFirst.tap('mounts', () => undefined);
    runtime.hooks.mount.tapPromise({ name: 'mounts', stage: STAGE_FIRST }, async (ctx) => {
      const model = ctx.container.config.model;
      if (model.autodev.enabled && ctx.rootfs) {
        // As LXC's: the size in bytes, and neither nosuid nor noexec (noexec would refuse a program's
        // executable mapping of /dev/zero, which LXC's containers allow).
        ctx.ops.mount(
          { source: 'none', target: 'dev', fstype: 'tmpfs', data: `size=${model.autodev.tmpfsSize},mode=755`, inRoot: true, create: 'dir' },
          { what: 'mounting a tmpfs on /dev (lxc.autodev)', ...origin(ctx.container.config, 'lxc.autodev') },
        );
      }
      mountProc(ctx);
      if (!model.mount.auto.proc) writeSysctls(ctx, false);
      mountSys(ctx);
    });
    // lxc.mount.auto cgroup comes in between, from the cgroup plugin (STAGE_AUTO_CGROUP).
    runtime.hooks.mount.tapPromise({ name: 'mounts', stage: STAGE_MOUNT_ENTRIES }, async (ctx) => {
      const model = ctx.container.config.model;
      for (const e of await fstabEntries(ctx.container.config)) mountEntry(ctx, e, 'lxc.mount.fstab');
      for (const e of model.mount.entries) mountEntry(ctx, e, 'lxc.mount.entry');
    });
  },
});
