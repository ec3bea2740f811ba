/**
 * The root filesystem, on the pre-mount hook: the container's mounts stop
 * propagating back to the host (rslave), the rootfs is bind-mounted (or
 * attached as an idmapped mount, lxc.rootfs.options idmap=container), and it
 * becomes the root that every later in-root path resolves beneath.
 *
 * Site pre-mount scripts run before the rootfs is mounted (STAGE_LAST here).
 *
 * In a user namespace started by root, the monitor (the host's root) makes the
 * mount, since the container's ids may not reach the rootfs path. Started by
 * another user, the container's first process makes it, so every directory
 * above the rootfs must be searchable by the container's root (as LXC asks
 * of unprivileged users: chmod +x on ~/.local/share/lxc and the like).
 */
import { STAGE_FIRST, STAGE_LAST } from '../hooks/stages.js';
import { definePlugin } from '../plugin/define.js';
import { MS, parseMountOptions } from '../start/mount-options.js';
import { VERSION } from '../version.js';

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
      const { flags, remount } = parseMountOptions(['rbind', ...options]);
      if (idmap && idmap !== 'idmap=container') {
        throw new Error(`lxc.rootfs.options ${idmap}: only idmap=container is supported`);
      }
      if (idmap && !ctx.userns) throw new Error('lxc.rootfs.options idmap=container needs lxc.idmap (a user namespace)');
      const hostRoot = process.geteuid?.() === 0;
      if (idmap && !hostRoot) {
        throw new Error('lxc.rootfs.options idmap=container needs root: idmapped mounts are made by the host\'s root (make the rootfs owned by your subordinate ids instead)');
      }
      if (ctx.userns && hostRoot) {
        // The monitor makes the mount: the container's root may not be able to reach the rootfs path.
        const slot = await ctx.detachedMount(rootfs.path, { idmap: idmap !== undefined });
        ctx.ops.attachTree(rootfs.mount, slot, {}, info);
        if (remount) ctx.ops.mount({ source: '', target: rootfs.mount, flags: MS.REMOUNT | MS.BIND | remount }, info);
      } else {
        ctx.ops.mount({ source: rootfs.path, target: rootfs.mount, flags, ...(remount ? { remount } : {}) }, info);
      }
      ctx.ops.setRoot(rootfs.mount, { what: `entering the root filesystem at ${rootfs.mount}` });
    });
  },
});
