/**
 * Checkpoint and restore (lxc-checkpoint): the core's side. The work is a
 * checkpointer's (`hooks.checkpointer`, the criu plugin); the core finds the
 * running container's init, cgroups and root filesystem for a dump, and runs
 * a restore as a start whose first process comes from the checkpoint
 * (start/restore.ts).
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ContainerConfig } from '../config/container-config.js';
import { LxkitError } from '../errors.js';
import type { Checkpointer } from '../hooks/drivers.js';
import type { Logger } from '../log/logger.js';
import type { Runtime } from '../runtime.js';
import { storageOf } from '../storage/select.js';
import type { RunningContainer } from '../container/running.js';

export interface CheckpointOptions {
  /** Where the images go; made (mode 0700) when missing (lxc-checkpoint -D). */
  directory: string;
  /** Stop the container once it is written (lxc-checkpoint -s); otherwise it goes on running. */
  stop?: boolean;
  /** Only a pre-dump of its memory, which a later checkpoint starts from (`previous`); the container goes on. */
  preDump?: boolean;
  /** An earlier pre-dump's directory (lxc-checkpoint -p): only what changed since goes into this one. */
  previous?: string;
  /** The checkpointer logs everything it does (lxc-checkpoint -v). */
  verbose?: boolean;
  /** A script the checkpointer runs at each of its stages (lxc-checkpoint -A). */
  actionScript?: string;
}

export interface RestoreOptions {
  /** The checkpoint's directory (lxc-checkpoint -r -D). */
  directory: string;
  /** The restorer logs everything it does (lxc-checkpoint -v). */
  verbose?: boolean;
  /** A script the restorer runs at each of its stages (lxc-checkpoint -A). */
  actionScript?: string;
  /** Stay with the container until it stops (lxc-checkpoint -F); otherwise resolve once it runs again (-d, the default). */
  foreground?: boolean;
  /**
   * With `foreground`: SIGINT/SIGTERM/SIGHUP to this process go to the
   * container as its halt signal, as for a start in the foreground (the
   * CLI's -F). Off by default: a library does not take over its host
   * program's signals.
   */
  forwardSignals?: boolean;
}

/** The enabled checkpointer, after checking it can carry this container. */
export function checkpointerFor(runtime: Runtime, name: string, config: ContainerConfig): Checkpointer {
  const checkpointer = runtime.hooks.checkpointer.call();
  if (!checkpointer) {
    throw new LxkitError('LXKIT_UNSUPPORTED', `container "${name}" cannot be checkpointed: no enabled plugin checkpoints containers (enable the criu plugin)`, {
      container: name,
    });
  }
  const why = checkpointer.unsupported(config);
  if (why !== undefined) throw new LxkitError('LXKIT_UNSUPPORTED', `container "${name}" cannot be checkpointed by ${checkpointer.name}: ${why}`, { container: name });
  return checkpointer;
}

/** The root filesystem as a directory of the host, where the backend keeps it so. */
function rootfsDirectory(runtime: Runtime, name: string, config: ContainerConfig): string | undefined {
  const value = config.model.rootfs.path;
  if (!value) return '/';
  const storage = storageOf(runtime, value, { container: name });
  return storage.backend.capabilities.directory ? storage.source : undefined;
}

/** Writes a running container's processes to `opts.directory`; with `stop`, resolves once it is STOPPED. */
export async function checkpointContainer(
  runtime: Runtime,
  c: { readonly name: string; readonly lxcpath: string; readonly config: ContainerConfig; readonly running: RunningContainer; readonly log: Logger },
  opts: CheckpointOptions,
): Promise<void> {
  const checkpointer = checkpointerFor(runtime, c.name, c.config);
  const status = await c.running.status();
  if (!status || status.state === 'STOPPED' || !status.pid) {
    throw new LxkitError('LXKIT_CONTAINER_NOT_RUNNING', `container "${c.name}" is not running: only a running container can be checkpointed`, { container: c.name });
  }
  if (opts.stop && opts.preDump) throw new LxkitError('LXKIT_USAGE', 'a pre-dump leaves the container running: it cannot stop it too');
  const directory = resolve(opts.directory);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const cgroups = (await c.running.cgroups()) ?? [];
  await checkpointer.dump({
    container: { name: c.name, lxcpath: c.lxcpath, config: c.config, configFile: c.config.path },
    log: c.log,
    directory,
    stop: opts.stop ?? false,
    preDump: opts.preDump ?? false,
    ...(opts.previous !== undefined ? { previous: opts.previous } : {}),
    verbose: opts.verbose ?? false,
    ...(opts.actionScript !== undefined ? { actionScript: resolve(opts.actionScript) } : {}),
    pid: status.pid,
    cgroups,
    rootfs: rootfsDirectory(runtime, c.name, c.config),
  });
  c.log.info(`container ${c.name}: ${opts.preDump ? 'pre-dumped' : 'checkpointed'} to ${directory}${opts.stop ? ', and stopped' : ''}`);
  // The processes are gone; the container's end (stop, post-stop) is its monitor's, or its stop work's.
  if (opts.stop && !(await c.running.wait(['STOPPED'], 60_000))) {
    throw new LxkitError('LXKIT_CHECKPOINT_FAILED', `container "${c.name}" was checkpointed but did not stop within 60 s`, { container: c.name });
  }
}
