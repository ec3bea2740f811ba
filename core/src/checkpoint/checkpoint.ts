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
import type { CheckpointFeature, Checkpointer } from '../hooks/drivers.js';
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
  /**
   * The memory pages go to a criu page server there instead of into
   * `directory` (LXC's migrate pageserver_address/_port): the receiving host
   * runs `criu page-server --images-dir DIR --address ADDRESS --port PORT`,
   * and restores from DIR once the rest of the images are put beside them.
   */
  pageServer?: { readonly address: string; readonly port: number };
  /**
   * The container will be restored onto the same filesystem, with the same
   * inodes (LXC's preserves_inodes): inotify watches are then found again by
   * inode instead of by path (criu's --force-irmap left out).
   */
  preservesInodes?: boolean;
  /** Dump even while connections are half-open (criu's --skip-in-flight, the default; false: LXC's disable_skip_in_flight). */
  skipInFlight?: boolean;
  /** How many bytes of deleted files that processes still hold go into the images (criu's --ghost-limit; LXC's ghost_limit). */
  ghostLimit?: number;
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

/**
 * Which of `features` a migration can rely on here, and which not (LXC's
 * migrate(MIGRATE_FEATURE_CHECK)), as the enabled checkpointer finds them.
 */
export async function checkpointFeatures(
  runtime: Runtime,
  features: readonly CheckpointFeature[],
): Promise<{ readonly supported: CheckpointFeature[]; readonly unsupported: CheckpointFeature[] }> {
  for (const f of features) {
    if (!CHECKPOINT_FEATURES.includes(f)) throw new LxkitError('LXKIT_USAGE', `checkpoint feature "${String(f)}" is unknown (known: ${CHECKPOINT_FEATURES.join(', ')})`);
  }
  const checkpointer = runtime.hooks.checkpointer.call();
  if (!checkpointer?.unsupportedFeatures) {
    throw new LxkitError('LXKIT_UNSUPPORTED', `no enabled plugin can tell which checkpoint features this host has${checkpointer ? ` (${checkpointer.name} cannot)` : ' (enable the criu plugin)'}`);
  }
  const unsupported = await checkpointer.unsupportedFeatures(features);
  return { supported: features.filter((f) => !unsupported.includes(f)), unsupported: features.filter((f) => unsupported.includes(f)) };
}

const CHECKPOINT_FEATURES: readonly CheckpointFeature[] = ['mem-track', 'lazy-pages'];

/** The page server's address and port, and the ghost limit, are what criu can take: a usage error names the option otherwise. */
function checkMigrateOptions(opts: CheckpointOptions): void {
  const ps = opts.pageServer;
  if (ps !== undefined) {
    // criu takes the address as given; an option-like or empty one would be read as something else.
    if (!ps.address || ps.address.startsWith('-') || /\s/.test(ps.address)) throw new LxkitError('LXKIT_USAGE', `pageServer.address: "${ps.address}" is no address`);
    if (!Number.isInteger(ps.port) || ps.port < 1 || ps.port > 65535) throw new LxkitError('LXKIT_USAGE', `pageServer.port: ${ps.port} is no port (1-65535)`);
  }
  if (opts.ghostLimit !== undefined && (!Number.isSafeInteger(opts.ghostLimit) || opts.ghostLimit < 0)) {
    throw new LxkitError('LXKIT_USAGE', `ghostLimit: ${opts.ghostLimit} is no number of bytes`);
  }
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
  checkMigrateOptions(opts);
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
    ...(opts.pageServer !== undefined ? { pageServer: opts.pageServer } : {}),
    preservesInodes: opts.preservesInodes ?? false,
    skipInFlight: opts.skipInFlight ?? true,
    ...(opts.ghostLimit !== undefined ? { ghostLimit: opts.ghostLimit } : {}),
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
