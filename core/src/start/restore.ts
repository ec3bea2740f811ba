/**
 * A start whose first process comes from a checkpoint (lxkit checkpoint -r):
 * after pre-start and the cloning taps, the monitor runs the checkpointer's
 * restorer instead of cloning, and holds the restored init as a cloned one.
 * No op batch follows, and the start-host, pre-mount … start taps do not
 * run: the restored processes bring their mounts and namespaces with them.
 */
import { chmod, chown } from 'node:fs/promises';
import { hostIdOf } from '../config/core-keys/idmap.js';
import { isLxkitError, LxkitError } from '../errors.js';
import type { CgroupHandoff, Checkpointer, CheckpointRestore, OpenedPty, RestorePty } from '../hooks/drivers.js';
import type { StartContext } from '../hooks/contexts.js';
import type { Logger } from '../log/logger.js';
import type { Runtime } from '../runtime.js';
import { GID_TTY } from './finalize.js';
import type { Monitor } from './monitor.js';
import type { StartRootfs } from './prepare.js';

export interface RestoreRun {
  readonly runtime: Runtime;
  readonly ctx: StartContext;
  readonly monitor: Monitor;
  readonly rootfs: StartRootfs | undefined;
  readonly lxcpath: string;
  readonly restore: { readonly checkpointer: Checkpointer; readonly directory: string; readonly verbose: boolean; readonly actionScript?: string };
  /** The cgroups the driver made, one per hierarchy: the restorer puts the restored processes there. */
  readonly cgroups: readonly CgroupHandoff['payload'][number][];
  /** CLONE_NEW* of the restored init's namespaces. */
  readonly flags: number;
  /** SERVE's answer: the restore is not asked for before the command socket is served. */
  readonly served: Promise<unknown>;
  readonly holdNamespaces: (c: { pid: number; namespaces: Readonly<Record<string, number>> }) => void;
  readonly log: Logger;
}

/** Restores the container; resolves once its init runs again (ctx.pid set). */
export async function restoreFirstProcess(o: RestoreRun): Promise<void> {
  const { ctx, monitor: m, rootfs, restore: r, log } = o;
  const name = ctx.container.name;
  await o.runtime.hooks.cloning.promise(ctx);
  // criu restores onto a directory of the host: a filesystem the monitor would mount for the container
  // (overlay, loop, lvm) is mounted on the host for the restore, and let go once the restored processes hold it.
  const mount = ctx.rootfsMount;
  // What pre-start attached for the container's own mount (a loop device), which a restore does not make, goes
  // now (the backend's host mount attaches its own); otherwise it would outlive a daemon's lxkit unused.
  if (mount?.kind === 'filesystem') await mount.mounted?.();
  const opened =
    rootfs === undefined || mount?.kind === 'bind'
      ? undefined
      : await rootfs.storage.backend.open(rootfs.storage.source, { name, lxcpath: o.lxcpath, dir: `${o.lxcpath}/${name}`, log });
  let ptysOpened = false;
  const req: CheckpointRestore = {
    container: ctx.container,
    log,
    directory: r.directory,
    verbose: r.verbose,
    ...(r.actionScript !== undefined ? { actionScript: r.actionScript } : {}),
    // No rootfs: the host's own; a bind's source is a directory on the host already.
    rootfs: opened?.path ?? (mount?.kind === 'bind' ? mount.path : '/'),
    cgroups: o.cgroups,
    runtimeConfig: ctx.runtimeConfig,
    openPtys: async (ptys: readonly RestorePty[]): Promise<OpenedPty[]> => {
      if (ptysOpened) throw new LxkitError('LXKIT_CHECKPOINT_FAILED', `restoring container "${name}": the restorer asked for ptys twice`, { container: name });
      ptysOpened = true;
      const paths = await m.openPtys(ptys, `opening ptys for the restored console and ttys of container "${name}"`);
      await giveToContainerRoot(ctx, paths);
      return ptys.map((p, i) => ({ ...p, path: paths[i]!, fd: 3 + i }));
    },
  };
  // A restorer that logs to a file says why there: its last errors go into the error.
  const explained = async (err: unknown): Promise<never> => {
    const why = isLxkitError(err, 'LXKIT_CHECKPOINT_FAILED') ? await r.checkpointer.restoreFailed?.(req).catch(() => undefined) : undefined;
    if (!why || !isLxkitError(err)) throw err;
    throw new LxkitError(err.code, `${err.message}\n${why}`, { container: name, ...(err.path !== undefined ? { path: err.path } : {}), cause: err });
  };
  try {
    const { argv, pidFile } = await r.checkpointer.restorer(req);
    await o.served;
    log.debug(`restoring with ${argv.join(' ')}`);
    o.holdNamespaces(await m.restore({ flags: o.flags, argv, pidFile, what: `restoring container "${name}" from ${r.directory}` }).catch((err) => explained(err)));
    await r.checkpointer.restored?.({ ...req, pid: ctx.pid!, namespaces: ctx.namespaces });
  } finally {
    await r.checkpointer.restoreEnded?.(req);
    // The restored processes hold their own copy of the mount in their namespace.
    await opened?.close();
  }
}

/**
 * The host's ptys as the container's own devpts would have them: mode 0620
 * (a daemon's console too), and in a user namespace owned by the container's
 * root and tty group (its root's group where tty is not mapped), so that a
 * getty started again after the restore opens its tty by path. criu then
 * gives a pty that a restored process holds the owner and mode it had.
 */
async function giveToContainerRoot(ctx: StartContext, paths: readonly string[]): Promise<void> {
  for (const path of paths) await chmod(path, 0o620);
  if (!ctx.userns) return;
  const idmap = ctx.container.config.model.idmap;
  const uid = hostIdOf(idmap, 'u', 0);
  const gid = hostIdOf(idmap, 'g', GID_TTY) ?? hostIdOf(idmap, 'g', 0);
  if (uid === undefined || gid === undefined) return;
  for (const path of paths) await chown(path, uid, gid);
}
