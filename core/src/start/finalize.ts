/**
 * The core's last set-up before the start hook, in LXC's order after the
 * autodev hook: a new devpts instance and /dev/ptmx, the ttys of
 * lxc.tty.max, /dev/console, lxc.proc and the time namespace offsets (while
 * the host's /proc still shows the first process), pivot_root into the
 * rootfs with the old root detached, and the host name.
 */
import type { StartContext } from '../hooks/contexts.js';
import { MS } from './mount-options.js';
import { CLONE_FLAGS } from './namespaces.js';
import { PTY_KIND, type OpQueue } from './ops.js';

export const GID_TTY = 5;

function ttyGidMapped(ctx: StartContext): boolean {
  if (!ctx.userns) return true;
  return ctx.container.config.model.idmap.some((m) => m.type === 'g' && m.nsid <= GID_TTY && GID_TTY < m.nsid + m.range);
}

/**
 * /dev/console on a pty of the container's devpts (in lxc.tty.dir too, bound on /dev/console, as LXC lays it out).
 * In the foreground it is the init's stdio too; a daemon's init gets /dev/null, as lxc-start -d gives it.
 */
function consoleOps(q: OpQueue, ctx: StartContext, dir: string | undefined, daemon: boolean): void {
  const slot = daemon ? undefined : ctx.allocateSlot();
  if (slot !== undefined) ctx.consoleSlot = slot;
  const target = dir ? `dev/${dir}/console` : 'dev/console';
  // Its mode is LXC 5.0's: in the foreground its owner's alone (rwx------) under lxc.autodev, else the devpts default (rw--w----).
  const mode = !daemon && ctx.container.config.model.autodev.enabled ? 0o700 : undefined;
  q.pty(
    { ptmx: 'dev/pts/ptmx', target, kind: PTY_KIND.CONSOLE, index: 0, ...(slot !== undefined ? { slot } : {}), inRoot: true, ...(mode ? { mode } : {}) },
    { what: `setting up /${target}` },
  );
  if (dir) {
    q.mount(
      { source: target, target: 'dev/console', flags: MS.BIND, inRoot: true, sourceInRoot: true, create: 'file' },
      { what: `binding /${target} on /dev/console` },
    );
  }
}

/** Queues the core's final set-up onto `q` (the ops of the stages before it). */
export function finalizeOps(q: OpQueue, ctx: StartContext, opts: { console: boolean; daemon: boolean }): OpQueue {
  const model = ctx.container.config.model;

  if (ctx.rootfs) {
    // The instance's max is LXC's: lxc.pty.max plus the ttys. With lxc.pty.max of 2 or more LXC
    // makes the console there, as its pts/0 before the ttys; with 0 or 1 it takes the console from
    // the host's devpts instead, which lxkit does not: the console gets a place of its own on top,
    // after the ttys. Without lxc.pty.max the container gets no pty of its own, as with LXC
    // (which then mounts no devpts at all): the instance holds the ttys and the console only, and
    // is not mounted when there are none (devpts reads max=0 as no limit).
    const consoleFirst = model.pty.max >= 2;
    const ptys = model.pty.max + model.tty.max + (opts.console && !consoleFirst ? 1 : 0);
    if (ptys > 0) {
      const data = ['newinstance', 'ptmxmode=0666', 'mode=0620', `max=${ptys}`];
      if (ttyGidMapped(ctx)) data.push(`gid=${GID_TTY}`);
      q.mount(
        { source: 'devpts', target: 'dev/pts', fstype: 'devpts', flags: MS.NOSUID | MS.NOEXEC, data: data.join(','), inRoot: true, create: 'dir' },
        { what: 'mounting a new devpts instance on /dev/pts' },
      );
      q.mount(
        { source: 'dev/pts/ptmx', target: 'dev/ptmx', flags: MS.BIND, inRoot: true, sourceInRoot: true, create: 'file' },
        { what: 'binding /dev/pts/ptmx on /dev/ptmx' },
      );
    }
    // As LXC: an application container's ttys are made (its monitor holds them, for the console)
    // but get no /dev/ttyN (nor lxc.tty.dir), which only a system container's gettys use.
    const bind = ctx.kind === 'system';
    const dir = bind ? model.tty.dir : undefined;
    if (dir) q.mkdir(`dev/${dir}`, { inRoot: true, mode: 0o755 }, { what: `creating /dev/${dir} (lxc.tty.dir)` });
    if (opts.console && consoleFirst) consoleOps(q, ctx, dir, opts.daemon);
    for (let i = 1; i <= model.tty.max; i++) {
      if (!bind) {
        q.pty({ ptmx: 'dev/pts/ptmx', kind: PTY_KIND.TTY, index: i, inRoot: true }, { what: `allocating tty ${i} (lxc.tty.max)` });
        continue;
      }
      const target = dir ? `dev/${dir}/tty${i}` : `dev/tty${i}`;
      q.pty({ ptmx: 'dev/pts/ptmx', target, kind: PTY_KIND.TTY, index: i, inRoot: true }, { what: `setting up /dev/tty${i} (lxc.tty.max)` });
      if (dir) q.symlink(`${dir}/tty${i}`, `dev/tty${i}`, { inRoot: true }, { what: `linking /dev/tty${i}` });
    }
    if (opts.console && !consoleFirst) consoleOps(q, ctx, dir, opts.daemon);
  }

  for (const [file, value] of Object.entries(model.proc)) {
    q.write(`/proc/self/${file}`, value, {}, { what: `writing /proc/<init>/${file} (lxc.proc.${file})` });
  }

  const { boot, monotonic } = model.timeOffset;
  if (boot.seconds || boot.nanoseconds || monotonic.seconds || monotonic.nanoseconds) {
    // Offsets can only be set before any process is in the namespace: unshare late, set, then exec enters it.
    q.unshare(CLONE_FLAGS.time, { what: 'creating a time namespace (lxc.time.offset.*)' });
    q.write(
      '/proc/self/timens_offsets',
      `monotonic ${monotonic.seconds} ${monotonic.nanoseconds}\nboottime ${boot.seconds} ${boot.nanoseconds}\n`,
      {},
      { what: 'setting the time namespace offsets' },
    );
  }

  if (ctx.rootfs) q.pivotRoot({ what: `making ${ctx.rootfs.mount} the root (pivot_root)` });
  // Only in a uts namespace of its own: a shared one (lxc.namespace.share.uts) keeps its owner's name, as in LXC.
  // Without lxc.uts.name the new namespace keeps the name it was made with, the host's, as LXC leaves it.
  if (model.utsName !== undefined && ctx.namespaceNames.has('uts') && model.namespaces.share.uts === undefined) {
    q.sethostname(model.utsName, { what: `setting the host name to ${model.utsName}` });
  }
  return q;
}
