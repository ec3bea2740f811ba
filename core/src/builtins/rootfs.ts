/**
 * The root filesystem. At pre-start its storage backend says how it is
 * mounted (a loop device is attached then); on the pre-mount hook the
 * container's mounts stop propagating back to the host (rslave), the rootfs
 * is bind-mounted or mounted as the backend's filesystem (or attached as an
 * idmapped mount, lxc.rootfs.options idmap=container), and it becomes the
 * root that every later in-root path resolves beneath. The core's `dir`
 * backend is registered here.
 *
 * Site pre-mount scripts run before the rootfs is mounted (STAGE_LAST here).
 *
 * In a user namespace started by root, the monitor (the host's root) makes the
 * mount, since the container's ids may not reach the rootfs path. Started by
 * another user, the container's first process makes it, so every directory
 * above the rootfs must be searchable by the container's root (as LXC asks
 * of unprivileged users: chmod +x on ~/.local/share/lxc and the like).
 */
import type { StartContext } from '../hooks/contexts.js';
import { STAGE_FIRST, STAGE_LAST } from '../hooks/stages.js';
import { definePlugin } from '../plugin/define.js';
import { MS, parseMountOptions } from '../start/mount-options.js';
import { dirBackend } from '../storage/dir.js';
import { VERSION } from '../version.js';

/**
 * What a start's storage holds on the host until its filesystem is mounted
 * (a loop device), by container: let go once mounted, or at post-stop when
 * the start failed before.
 */
const holding = new Map<string, () => Promise<void>>();
const holdKey = (c: { lxcpath: string; name: string }) => `${c.lxcpath}\0${c.name}`;

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

async function letGo(key: string): Promise<void> {
  const release = holding.get(key);
  holding.delete(key);
  await release?.();
}

export const rootfsPlugin = definePlugin({
  name: 'rootfs',
  version: VERSION,
  replayable: true,
  apply(runtime) {
    // Its ops follow from the config and namespaceNames; a detached mount is the monitor's, after the clone.
    runtime.hooks.cloneFirst.tap('rootfs', () => undefined);
    runtime.hooks.preMount.tap({ name: 'rootfs', stage: STAGE_FIRST }, (ctx) => {
      // In a new user namespace the first process becomes its root (the maps are written by now).
      if (ctx.userns) ctx.ops.becomeRoot({ what: 'becoming root in the container\'s user namespace' });
      ctx.ops.makeRslave({ what: 'keeping the container\'s mounts from propagating to the host' });
      // Only in a network namespace of its own (a shared one is its owner's to configure).
      if (ctx.namespaceNames.has('net') && ctx.container.config.model.namespaces.share.net === undefined) {
        ctx.ops.loopbackUp({ what: 'bringing up the loopback interface' });
      }
    });
    runtime.hooks.storage.for('dir').tap('rootfs', () => dirBackend);
    runtime.hooks.preStart.tapPromise('rootfs', async (ctx) => {
      if (!ctx.rootfs) return;
      const { backend, source } = ctx.rootfs.storage;
      const { name, lxcpath } = ctx.container;
      const mount = await backend.mount(source, { name, lxcpath, dir: `${lxcpath}/${name}`, log: ctx.log });
      if (mount.kind === 'filesystem' && mount.mounted) {
        // Let go of once, whoever asks first: the mount made, a failed start's post-stop, a restore (which makes no such mount).
        const release = once(mount.mounted);
        holding.set(holdKey(ctx.container), release);
        ctx.rootfsMount = { ...mount, mounted: release };
      } else ctx.rootfsMount = mount;
    });
    // Only a start that failed before its rootfs was mounted has something to let go, in its own process.
    runtime.hooks.postStop.tapPromise('rootfs', (ctx) => letGo(holdKey(ctx.container)));
    runtime.hooks.stopWork.tap('rootfs', () => undefined);
    runtime.hooks.preMount.tapPromise({ name: 'rootfs', stage: STAGE_LAST }, async (ctx) => {
      const rootfs = ctx.rootfs;
      if (!rootfs) {
        // No rootfs: the container sees the host's / (in its own mount namespace).
        ctx.ops.setRoot('/', { what: 'using the host\'s root filesystem' });
        return;
      }
      const options = (ctx.container.config.model.rootfs.options ?? '').split(',').filter(Boolean);
      const idmap = options.find((o) => o.startsWith('idmap='));
      const origin = ctx.container.config.entries.find((e) => e.key === 'lxc.rootfs.path');
      const info = { what: `mounting the root filesystem ${rootfs.path} on ${rootfs.mount}`, ...(origin ? { origin } : {}) };
      const { flags, remount, data } = parseMountOptions(['rbind', ...options]);
      if (idmap && idmap !== 'idmap=container') {
        throw new Error(`lxc.rootfs.options ${idmap}: only idmap=container is supported`);
      }
      if (idmap && !ctx.userns) throw new Error('lxc.rootfs.options idmap=container needs lxc.idmap (a user namespace)');
      const hostRoot = process.geteuid?.() === 0;
      if (idmap && !hostRoot) {
        throw new Error('lxc.rootfs.options idmap=container needs root: idmapped mounts are made by the host\'s root (make the rootfs owned by your subordinate ids instead)');
      }
      const how = ctx.rootfsMount ?? { kind: 'bind', path: rootfs.path };
      if (how.kind === 'filesystem') {
        await mountFilesystem(ctx, how, { idmap: idmap !== undefined, hostRoot, data, remount, info });
      } else if (ctx.userns && hostRoot) {
        // The monitor makes the mount: the container's root may not be able to reach the rootfs path.
        const slot = await ctx.detachedMount(how.path, { idmap: idmap !== undefined });
        ctx.ops.attachTree(rootfs.mount, slot, {}, info);
        if (remount) ctx.ops.mount({ source: '', target: rootfs.mount, flags: MS.REMOUNT | MS.BIND | remount }, info);
      } else {
        ctx.ops.mount({ source: how.path, target: rootfs.mount, flags, ...(remount ? { remount } : {}) }, info);
      }
      ctx.ops.setRoot(rootfs.mount, { what: `entering the root filesystem at ${rootfs.mount}` });
    });
  },
});

/**
 * A backend's filesystem (an overlay, a loop device's ext4) as the rootfs.
 * The monitor makes it when only the host's root may (a block device), or
 * for a user namespace started by root (the container's root may not reach
 * the layers); else the first process mounts it (an overlay, also in a user
 * namespace of an unprivileged user, where the kernel allows overlays).
 * lxc.rootfs.options' flags apply by a remount, their data as the
 * filesystem's options.
 */
async function mountFilesystem(
  ctx: StartContext,
  how: Extract<NonNullable<StartContext['rootfsMount']>, { kind: 'filesystem' }>,
  o: { idmap: boolean; hostRoot: boolean; data: string | undefined; remount: number; info: { what: string } },
): Promise<void> {
  const rootfs = ctx.rootfs!;
  let fsOptions = [...how.options, ...(o.data ? o.data.split(',') : [])];
  if (o.idmap && how.layers?.length) {
    // overlayfs cannot be an idmapped mount itself, but takes idmapped layers: the monitor makes each, the
    // first process attaches them on a tmpfs at the mount point and mounts the filesystem over it, in the
    // container's user namespace (the kernel allows an overlay there); pivot_root leaves the tmpfs behind.
    ctx.ops.mount({ source: 'tmpfs', target: rootfs.mount, fstype: 'tmpfs', data: 'mode=0700', flags: 0 }, { what: `staging the idmapped layers of the root filesystem on ${rootfs.mount}` });
    const byLength = [...how.layers].map((path, i) => ({ path, at: `${rootfs.mount}/.layer${i}` })).sort((a, b) => b.path.length - a.path.length);
    for (const layer of byLength) {
      const slot = await ctx.detachedMount(layer.path, { idmap: true });
      ctx.ops.mkdir(layer.at, { mode: 0o700 }, { what: `making ${layer.at}` });
      ctx.ops.attachTree(layer.at, slot, {}, { what: `attaching the idmapped layer ${layer.path}` });
    }
    fsOptions = fsOptions.map((opt) => byLength.reduce((text, l) => text.split(l.path).join(l.at), opt));
    ctx.ops.mount({ source: how.source, target: rootfs.mount, fstype: how.fstype, data: fsOptions.join(','), flags: 0 }, o.info);
  } else if (how.hostRoot || (ctx.userns && o.hostRoot) || o.idmap) {
    if (!o.hostRoot) throw new Error(`lxc.rootfs.path: a ${rootfs.storage.type} root filesystem is mounted by the host's root: start the container as root`);
    const slot = await ctx.detachedMount(how.source, { idmap: o.idmap, fstype: how.fstype, options: fsOptions });
    // The mount holds what it is made of now (a loop device): the backend lets go of it.
    await letGo(holdKey(ctx.container));
    ctx.ops.attachTree(rootfs.mount, slot, {}, o.info);
  } else {
    for (const dir of how.makeDirectories ?? []) ctx.ops.mkdir(dir, { mode: 0o755, parents: true }, { what: `making ${dir} for the ${how.fstype} root filesystem` });
    ctx.ops.mount({ source: how.source, target: rootfs.mount, fstype: how.fstype, data: fsOptions.join(','), flags: 0 }, o.info);
  }
  if (o.remount) ctx.ops.mount({ source: '', target: rootfs.mount, flags: MS.REMOUNT | MS.BIND | o.remount }, o.info);
}
