/**
 * lxc.autodev: fills the container's fresh /dev, last on the autodev hook
 * (site autodev scripts run before, as in LXC). Privileged containers get
 * device nodes; in a user namespace, where mknod is not allowed, the host's
 * nodes are bind-mounted instead, as LXC does. And, as LXC, the container
 * gets a boot id of its own (/dev/.lxc-boot-id on /proc/sys/kernel/random/boot_id).
 */
import { STAGE_LAST } from '../hooks/stages.js';
import { definePlugin } from '../plugin/define.js';
import { MS } from '../start/mount-options.js';
import { VERSION } from '../version.js';

const S_IFCHR = 0o020000;

/** LXC's lxc_fill_autodev list. */
export const AUTODEV_DEVICES: readonly { name: string; major: number; minor: number }[] = [
  { name: 'full', major: 1, minor: 7 },
  { name: 'null', major: 1, minor: 3 },
  { name: 'random', major: 1, minor: 8 },
  { name: 'tty', major: 5, minor: 0 },
  { name: 'urandom', major: 1, minor: 9 },
  { name: 'zero', major: 1, minor: 5 },
];

const LINKS: readonly [string, string][] = [
  ['/proc/self/fd', 'dev/fd'],
  ['/proc/self/fd/0', 'dev/stdin'],
  ['/proc/self/fd/1', 'dev/stdout'],
  ['/proc/self/fd/2', 'dev/stderr'],
];

export const autodevPlugin = definePlugin({
  name: 'autodev',
  version: VERSION,
  replayable: true,
  apply(runtime) {
    // Its ops follow from the config alone.
    runtime.hooks.cloneFirst.tap('autodev', () => undefined);
    runtime.hooks.autodev.tap({ name: 'autodev', stage: STAGE_LAST }, (ctx) => {
      if (!ctx.container.config.model.autodev.enabled || !ctx.rootfs) return;
      for (const d of AUTODEV_DEVICES) {
        const path = `dev/${d.name}`;
        const what = `creating /dev/${d.name}`;
        if (ctx.userns) {
          ctx.ops.mount({ source: `/dev/${d.name}`, target: path, flags: MS.BIND, inRoot: true, create: 'file' }, { what });
        } else {
          ctx.ops.mknod(path, { mode: S_IFCHR | 0o666, major: d.major, minor: d.minor, inRoot: true }, { what });
        }
      }
      for (const [text, path] of LINKS) ctx.ops.symlink(text, path, { inRoot: true }, { what: `linking /${path}` });
      ctx.ops.mkdir('dev/shm', { inRoot: true, mode: 0o1777 }, { what: 'creating /dev/shm' });
      // As LXC: a boot id of the container's own, on the /dev tmpfs (nothing without a /proc).
      ctx.ops.bootId('dev/.lxc-boot-id', 'proc/sys/kernel/random/boot_id', { inRoot: true }, { what: 'giving the container its own boot id (/proc/sys/kernel/random/boot_id)' });
    });
  },
});
