/**
 * The library API, mirroring liblxc's bindings:
 *
 * ```ts
 * const c = new Container('web', { lxcpath: '/var/lib/lxkit' });
 * await c.create({ template: 'busybox' });
 * const { exit } = await c.start({ command: ['/bin/sh', '-c', 'echo hi'] });
 * await c.destroy();
 * ```
 *
 * Every method is promise-based; the CLI commands are thin layers over
 * these. A container's directory follows LXC's layout
 * (<lxcpath>/<name>/config, <name>/rootfs).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ContainerConfig } from '../config/container-config.js';
import { ConfigDocument } from '../config/document.js';
import { ConfigCache } from '../config/cache.js';
import { loadContainerConfig } from '../config/load.js';
import { LxkitError, messageOf } from '../errors.js';
import { adoptContainerLog, createLogger, type Logger } from '../log/logger.js';
import { Runtime } from '../runtime.js';
import { finishAdopted, runContainer, startDetached, type ContainerState, type Detached, type RunResult } from '../start/run.js';
import { RunningContainer, type StopOptions } from './running.js';
import type { AttachOptions } from '../attach/attach.js';
import type { ConsoleLogOptions, ConsoleOptions } from '../console/console.js';
import type { IdMap } from '../config/core-keys/model.js';
import { parseIdMap } from '../config/core-keys/idmap.js';
import { Monitor, type Exit } from '../start/monitor.js';
import { netnsMadeAhead } from '../start/namespaces.js';
import { ContainerLock, pruneEmptyDirs } from './lock.js';
import { checkName } from './name.js';
import { containerPaths, runDir, type ContainerPaths } from './paths.js';
import { clonesOf, releaseOrigin, snapshotPath, snapshotsOf } from './dependents.js';
import { isAtOrAbove, removeAsContainerRoot } from '../storage/directories.js';
import { chosenBackend, storageOf } from '../storage/select.js';
import type { StorageOptions, StorageTarget } from '../storage/backend.js';
import { isRepeatableKey } from './repeatable.js';
import { cloneContainer, emptyBut, type CloneOptions } from './clone.js';
import { listSnapshots, requireSnapshot, takeSnapshot, type SnapshotInfo } from './snapshots.js';
import { timelineMark } from '../log/timeline.js';
import type { CheckpointFeature } from '../hooks/drivers.js';
import { checkpointContainer, checkpointerFor, checkpointFeatures, type CheckpointOptions, type RestoreOptions } from '../checkpoint/checkpoint.js';

export type { ContainerState, Detached } from '../start/run.js';
export type { CloneOptions } from './clone.js';
export type { SnapshotInfo } from './snapshots.js';
export type { StopOptions } from './running.js';
export type { CheckpointOptions, RestoreOptions } from '../checkpoint/checkpoint.js';
export type { AttachOptions, AttachNamespace } from '../attach/attach.js';
export type { ConsoleLogOptions, ConsoleOptions } from '../console/console.js';

export interface ContainerOptions {
  /** Container path; defaults to the toolkit config's lxcpath. */
  lxcpath?: string;
  /** A runtime to use (its plugins, its toolkit config); made on first use otherwise. */
  runtime?: Runtime;
  /** Toolkit config file for the runtime made on first use. */
  rcfile?: string;
  log?: Logger;
}

export interface CreateOptions {
  /** Template name (`busybox`...), provided by an enabled plugin. */
  template?: string;
  templateArgs?: readonly string[];
  /** Config to start from instead of the toolkit's default container config (`lxkit create -f`). */
  configFile?: string;
  /**
   * The rootfs's storage type (`-B`): `dir` (the default), a type an enabled
   * plugin provides (`btrfs`, `overlay`, `loop`...), or `best` (btrfs, zfs
   * or lvm where the lxcpath allows, else dir); an unavailable one is
   * `LXKIT_UNSUPPORTED` before anything is made.
   */
  storage?: string;
  /** lxc-create's --fssize, --fstype, --zfsroot, --vgname, --lvname, --thinpool. */
  storageOptions?: StorageOptions;
  /** The rootfs directory (`--dir`) instead of `<lxcpath>/<name>/rootfs`; the config's lxc.rootfs.path names it. */
  rootfsDir?: string;
  /** What the template has to say to the person making the container (default: logged at NOTICE). */
  onMessage?: (text: string) => void;
  /** Answers a template's question (the download template's image, when not given): the answer's line, or undefined for none (the default). */
  onQuestion?: (question: string) => Promise<string | undefined>;
}

/** What a start and an execute both take. */
export interface RunOptionsBase {
  /** `-s KEY=VALUE` settings applied over the config for this run. */
  defines?: readonly (readonly [string, string])[];
  /** A config file to use instead of the container's own (`-f`). */
  configFile?: string;
  /** Called with each state as the container reaches it. */
  onState?: (state: ContainerState) => void;
  /**
   * While it runs, SIGINT/SIGTERM/SIGHUP to this process go to the container:
   * as its halt signal (lxc.signal.halt) for `start`, as themselves to the
   * command for `execute`, as the CLI does. Off by default: a library does not
   * take over its host program's signals.
   */
  forwardSignals?: boolean;
}

export interface StartOptions extends RunOptionsBase {
  /** Run in the foreground until the container stops; otherwise (daemon mode) resolve once it runs. */
  foreground?: boolean;
  /** Daemon mode: where lxkit's stop work logs, when the init has exited (lxc.log.file/level otherwise). */
  stopLog?: { file?: string; level?: string };
  /** A file holding the init's pid while the container runs (lxc-start -p); removed when it stops. */
  pidfile?: string;
  /** Command instead of lxc.init.cmd. */
  command?: readonly string[];
  /** Give the init a console pty proxied to this process's stdio (default: true). */
  console?: boolean;
}

export interface ExecuteOptions extends RunOptionsBase {
  /** The command's user and group ids (`-u`, `-g`), instead of lxc.init.uid/gid. */
  uid?: number;
  gid?: number;
  /**
   * Daemon mode (lxc-execute -d): resolve once the command runs, leaving the
   * container to its monitor; the command's stdio is /dev/null.
   */
  daemon?: boolean;
}

export interface DestroyOptions {
  /** A running container is killed first (lxc-destroy -f). */
  force?: boolean;
  /** Its snapshots are destroyed with it (lxc-destroy -s); without, a container with snapshots is refused. */
  snapshots?: boolean;
}

/** A restore as a start carries it (start/run.ts). */
type RunRestore = NonNullable<import('../start/run.js').RunOptions['restore']>;

export class Container {
  readonly name: string;
  readonly #opts: ContainerOptions;
  #runtime: Promise<Runtime> | undefined;
  #document: ConfigDocument | undefined;

  constructor(name: string, opts: ContainerOptions = {}) {
    this.name = checkName(name);
    this.#opts = opts;
    if (opts.runtime) this.#runtime = Promise.resolve(opts.runtime);
  }

  /** Without a logger of the caller's, a silent one of this container's, which its config's lxc.log.file may give a file (adoptContainerLog). */
  #ownLog: Logger | undefined;

  get #log(): Logger {
    return this.#opts.log ?? (this.#ownLog ??= createLogger({ program: 'lxkit', container: this.name, quiet: true }));
  }

  runtime(): Promise<Runtime> {
    this.#runtime ??= Runtime.create({ log: this.#log, ...(this.#opts.rcfile ? { rcfile: this.#opts.rcfile } : {}) });
    return this.#runtime;
  }

  async lxcpath(): Promise<string> {
    return this.#opts.lxcpath ?? (await this.runtime()).toolkit.lxcpath;
  }

  async paths(): Promise<ContainerPaths> {
    return containerPaths(await this.lxcpath(), this.name);
  }

  /** Whether the container exists (has a config file). */
  async defined(): Promise<boolean> {
    return existsSync((await this.paths()).config);
  }

  async #requireDefined(): Promise<ContainerPaths> {
    const paths = await this.paths();
    if (!existsSync(paths.config)) {
      throw new LxkitError('LXKIT_CONTAINER_NOT_FOUND', `container "${this.name}" does not exist in ${await this.lxcpath()}`, {
        container: this.name,
        path: paths.config,
      });
    }
    return paths;
  }

  /** The container's config, validated by every enabled plugin. */
  async loadConfig(opts: { configFile?: string; defines?: readonly (readonly [string, string])[] } = {}): Promise<ContainerConfig> {
    const runtime = await this.runtime();
    const path = opts.configFile ?? (await this.paths()).config;
    if (!opts.configFile && !existsSync(path)) {
      // No config at all: an application container on the host's root filesystem, as lxc-execute allows.
      return loadContainerConfig(runtime, { text: '', name: '<no config>', ...(opts.defines ? { defines: opts.defines } : {}) });
    }
    return loadContainerConfig(runtime, { path, ...(opts.defines ? { defines: opts.defines } : {}) });
  }

  async create(opts: CreateOptions = {}): Promise<void> {
    const runtime = await this.runtime();
    const paths = await this.paths();
    const lxcpath = await this.lxcpath();
    const template = opts.template ? runtime.hooks.template.get(opts.template)?.call() : undefined;
    if (opts.template && !template) {
      throw new LxkitError('LXKIT_TEMPLATE_UNKNOWN', `unknown template "${opts.template}" (no enabled plugin provides it)`, {
        container: this.name,
      });
    }
    const storageOptions = this.#storageDefaults(runtime, opts.storageOptions);
    const backend = await chosenBackend(runtime, opts.storage ?? 'dir', lxcpath, storageOptions, this.name);
    const rootfs = opts.rootfsDir !== undefined ? resolve(opts.rootfsDir) : paths.rootfs;
    if (isAtOrAbove(rootfs, paths.dir)) {
      throw new LxkitError('LXKIT_USAGE', `cannot create container "${this.name}" with its root filesystem in ${rootfs}: that is its own directory or one above it`, {
        container: this.name,
        path: rootfs,
      });
    }
    await mkdir(lxcpath, { recursive: true, mode: 0o755 });
    const lock = await ContainerLock.acquire(paths.lock, this.name, 'create');
    let made = false;
    /** A rootfs directory elsewhere that this create made. */
    let madeElsewhere = false;
    /** Storage this create made outside the container's directory (lxc.rootfs.path), removed when it fails. */
    let madeStorage: string | undefined;
    let doc: ConfigDocument | undefined;
    try {
      if (existsSync(paths.dir)) {
        throw new LxkitError('LXKIT_CONTAINER_EXISTS', `container "${this.name}" already exists (${paths.dir})`, {
          container: this.name,
          path: paths.dir,
        });
      }
      await mkdir(paths.dir, { mode: 0o755 });
      made = true;
      // --dir as with lxc-create: a directory that is there already is used as it is, what it holds kept.
      madeElsewhere = rootfs !== paths.rootfs && !existsSync(rootfs);
      const target = { ...this.#target(paths, lxcpath), rootfs, options: storageOptions };
      const source = await backend.create(target);
      if (backend.type !== 'dir' || madeElsewhere) madeStorage = `${backend.type}:${source}`;
      const base = opts.configFile ?? runtime.toolkit.defaultConfig;
      const text = await readFile(base, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (opts.configFile || err.code !== 'ENOENT') {
          throw new LxkitError('LXKIT_CONFIG_READ', `cannot read ${base}: ${err.code ?? err.message}`, { cause: err, path: base });
        }
        return '';
      });
      doc = ConfigDocument.parse(text.length && !text.endsWith('\n') ? text + '\n' : text, paths.config);
      if (template) {
        // Storage that is not a directory on the host (a loop file's filesystem) is mounted for the template.
        const opened = await backend.open(source, target);
        try {
          await template.create({
            name: this.name,
            lxcpath,
            dir: paths.dir,
            rootfs: opened.path,
            args: opts.templateArgs ?? [],
            config: doc,
            log: this.#log,
            hasPlugin: (p) => runtime.hasPlugin(p),
            say: opts.onMessage ?? ((text) => this.#log.notice(text)),
            ask: opts.onQuestion ?? (async () => undefined),
          });
        } catch (err) {
          throw new LxkitError('LXKIT_TEMPLATE_FAILED', `template "${opts.template}" failed for container "${this.name}": ${messageOf(err)}`, {
            cause: err,
            container: this.name,
          });
        } finally {
          await opened.close();
        }
      }
      // As LXC: the config names the storage made; a dir config that names its own rootfs keeps it.
      if (backend.type !== 'dir' || doc.get('lxc.rootfs.path') === undefined || opts.rootfsDir !== undefined) {
        doc.set('lxc.rootfs.path', `${backend.type}:${source}`);
      }
      if (doc.get('lxc.uts.name') === undefined) doc.set('lxc.uts.name', this.name);
      await writeFile(paths.config, doc.toBuffer(), { mode: 0o640 });
      // What was written must load: a template or default config with mistakes fails here, not at start.
      const config = await loadContainerConfig(runtime, { path: paths.config });
      await runtime.hooks.create.promise({
        container: { name: this.name, lxcpath, config, configFile: paths.config },
        log: this.#log,
        ...(opts.template ? { template: opts.template } : {}),
        templateArgs: opts.templateArgs ?? [],
      });
    } catch (err) {
      // Only what the create made: a root filesystem the config puts elsewhere may have been there before.
      if (made) await this.#remove(paths, { idmap: idmapOf(doc), ...(madeStorage ? { rootfs: { path: madeStorage, managed: true } } : {}) });
      throw err;
    } finally {
      lock.release();
    }
  }

  /**
   * Starts the container. In daemon mode (the default, as lxc-start) it
   * resolves once the init runs, leaving the container to its monitor; with
   * `foreground` it resolves when the container has stopped (a reboot
   * starts it again).
   */
  start(opts: StartOptions & { foreground: true }): Promise<RunResult>;
  start(opts?: StartOptions & { foreground?: false }): Promise<Detached>;
  async start(opts: StartOptions = {}): Promise<RunResult | Detached> {
    if (!opts.configFile) await this.#requireDefined();
    if (!opts.foreground) return this.#startDetached(opts);
    for (;;) {
      const onState = async (state: ContainerState) => {
        opts.onState?.(state);
        if (opts.pidfile && state === 'RUNNING') await writeFile(opts.pidfile, `${await this.initPid()}\n`).catch(() => undefined);
      };
      const result = await this.#run('system', opts.command, { ...opts, onState: (st) => void onState(st), console: opts.console ?? true }).finally(
        () => opts.pidfile && rm(opts.pidfile, { force: true }),
      );
      if (!result.reboot) return result;
      this.#log.info(`container ${this.name} asked for a reboot: starting it again`);
    }
  }

  /**
   * An application container: `command` runs under a small init; resolves
   * with its exit (128+N for signal N), or with `daemon` once it runs.
   */
  execute(command: readonly string[], opts: ExecuteOptions & { daemon: true }): Promise<Detached>;
  execute(command: readonly string[], opts?: ExecuteOptions & { daemon?: false }): Promise<Exit>;
  async execute(command: readonly string[], opts: ExecuteOptions = {}): Promise<Exit | Detached> {
    if (opts.daemon) return this.#startDetached({ ...opts, command }, undefined, 'application');
    const { exit } = await this.#run('application', command, { console: false, ...opts });
    return exit;
  }

  /** What a start and the stop work both need: the runtime, where the container is, and the config it runs with. */
  async #setting(opts: RunOptionsBase) {
    const runtime = await this.runtime();
    const lxcpath = await this.lxcpath();
    const paths = await this.paths();
    const config = await this.loadConfig({
      ...(opts.configFile ? { configFile: opts.configFile } : {}),
      ...(opts.defines ? { defines: opts.defines } : {}),
    });
    return { runtime, lxcpath, paths, config };
  }

  /**
   * The lock first, then the monitor is spawned (in the background: see
   * Monitor.spawn) while the runtime and the config load, so that it runs by
   * the time the start needs it.
   */
  async #prepare(opts: RunOptionsBase, lockFd?: number) {
    timelineMark('start');
    const paths = await this.paths();
    const lock = lockFd !== undefined ? ContainerLock.fromFd(lockFd) : await ContainerLock.acquire(paths.lock, this.name, 'start');
    timelineMark('locked');
    let monitor: Monitor | undefined;
    try {
      // The config this runtime read last time for this container (not yet checked to be current) tells
      // whether the monitor can make the network namespace as it starts: a guess, which costs only a
      // namespace let go when it is wrong.
      const guess = this.#opts.runtime?.configCache.peek(ConfigCache.key(opts.configFile ?? paths.config, opts.defines));
      monitor = Monitor.spawn({ log: this.#log, container: this.name, lockFd: lock.fd, netnsAhead: guess !== undefined && netnsMadeAhead(guess) });
      timelineMark('monitor-spawned');
      const { runtime, lxcpath, config } = await this.#setting(opts);
      adoptContainerLog(this.#log, config.model.log);
      timelineMark('config');
      const pidOf = (path: string, name: string) => new Container(name, { lxcpath: path }).initPid();
      return { runtime, lxcpath, paths, config, lock, monitor, pidOf };
    } catch (err) {
      monitor?.abandon();
      lock.release();
      throw err;
    }
  }

  async #run(
    kind: 'system' | 'application',
    command: readonly string[] | undefined,
    opts: ExecuteOptions & { console: boolean; restore?: RunRestore },
  ): Promise<RunResult> {
    const { runtime, lxcpath, paths, config, lock, monitor, pidOf } = await this.#prepare(opts);
    try {
      const result = await runContainer(runtime, {
        name: this.name,
        lxcpath,
        config,
        paths,
        lock,
        monitor,
        kind,
        ...(command ? { command } : {}),
        ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
        ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
        console: opts.console,
        log: this.#log,
        ...(opts.onState ? { onState: opts.onState } : {}),
        forwardSignals: opts.forwardSignals ?? false,
        pidOf,
        ...(opts.restore ? { restore: opts.restore } : {}),
      });
      if (config.model.ephemeral && (await this.defined())) await this.#remove(paths, config.model);
      return result;
    } catch (err) {
      // Quit by the start's abort path unless it failed before having it (then it exits on its own).
      monitor.abandon();
      throw err;
    } finally {
      lock.release();
    }
  }

  async #startDetached(
    opts: StartOptions & Pick<ExecuteOptions, 'uid' | 'gid'> & { restore?: RunRestore },
    lockFd?: number,
    kind: 'system' | 'application' = 'system',
  ): Promise<Detached> {
    const { runtime, lxcpath, paths, config, lock, monitor, pidOf } = await this.#prepare(opts, lockFd);
    try {
      const detached = await startDetached(runtime, {
        name: this.name,
        lxcpath,
        config,
        paths,
        lock,
        monitor,
        kind,
        ...(opts.command ? { command: opts.command } : {}),
        ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
        ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
        // An application container has no console, as in the foreground.
        console: kind === 'system' && (opts.console ?? true),
        log: this.#log,
        ...(opts.onState ? { onState: opts.onState } : {}),
        pidOf,
        afterExit: this.#afterExit(lxcpath, runtime, opts, kind),
        // What the container API itself does at a stop.
        stopWork: config.model.ephemeral ? 'lxc.ephemeral: the container is removed' : opts.pidfile !== undefined ? 'the pid file is removed' : undefined,
        ...(opts.restore ? { restore: opts.restore } : {}),
      });
      if (opts.pidfile) await writeFile(opts.pidfile, `${detached.pid}\n`);
      return detached;
    } catch (err) {
      monitor.abandon();
      throw err;
    } finally {
      lock.release();
    }
  }

  /** The command the monitor runs when a daemon's init exits: `lxkit __stopped` with what this start used. */
  #afterExit(lxcpath: string, runtime: Runtime, opts: StartOptions, kind: 'system' | 'application'): string[] {
    const rcfile = this.#opts.rcfile ?? runtime.toolkit.file;
    return [
      process.execPath,
      fileURLToPath(new URL('../bin/lxkit.cjs', import.meta.url)),
      '__stopped',
      '-n',
      this.name,
      '-P',
      lxcpath,
      ...(kind === 'application' ? ['--application'] : []),
      ...(rcfile ? ['--rcfile', rcfile] : []),
      ...(opts.configFile ? ['-f', opts.configFile] : []),
      ...(opts.defines ?? []).flatMap(([k, v]) => ['-s', `${k}=${v}`]),
      ...(opts.stopLog?.file ? ['-o', opts.stopLog.file] : []),
      ...(opts.stopLog?.level ? ['-l', opts.stopLog.level] : []),
      ...(opts.pidfile ? ['--pidfile', opts.pidfile] : []),
      ...(opts.command?.length ? ['--', ...opts.command] : []),
    ];
  }

  /**
   * lxkit's stop work for a daemon whose init has exited, in the process its
   * monitor started (`lxkit __stopped`; control socket fd 3, the lock fd 4):
   * stop and post-stop hooks, an ephemeral container removed, a reboot
   * started again. Resolves with the init's exit.
   */
  async finishStopped(opts: StartOptions & { controlFd: number; lockFd: number; kind?: 'system' | 'application' }): Promise<Exit> {
    const { runtime, lxcpath, paths, config } = await this.#setting(opts);
    const result = await finishAdopted(runtime, {
      name: this.name,
      lxcpath,
      config,
      // An application container is never rebooted (finish() says so).
      kind: opts.kind ?? 'system',
      log: this.#log,
      fd: opts.controlFd,
      ...(opts.onState ? { onState: opts.onState } : {}),
    });
    if (opts.pidfile) await rm(opts.pidfile, { force: true });
    if (result.reboot) {
      this.#log.info(`container ${this.name} asked for a reboot: starting it again`);
      await this.#startDetached(opts, opts.lockFd);
      return result.exit;
    }
    if (config.model.ephemeral && (await this.defined())) await this.#remove(paths, config.model);
    // The monitor has let go of its copy; this one would hold the lock until this process has exited.
    ContainerLock.fromFd(opts.lockFd).release();
    return result.exit;
  }

  /**
   * Which of `features` a migration of this container can rely on here
   * (LXC's migrate(MIGRATE_FEATURE_CHECK)): `mem-track` (memory tracked
   * between a pre-dump and the dump) and `lazy-pages` (a restore before all
   * pages arrived). A question about the host: the container need not exist.
   */
  async checkpointFeatures(features: readonly CheckpointFeature[]): Promise<{ readonly supported: CheckpointFeature[]; readonly unsupported: CheckpointFeature[] }> {
    return checkpointFeatures(await this.runtime(), features);
  }

  /**
   * Writes the running container's processes to `opts.directory` (lxc-checkpoint),
   * through the enabled checkpointer (the criu plugin); with `stop`, resolves once
   * the container is STOPPED.
   */
  async checkpoint(opts: CheckpointOptions): Promise<void> {
    await this.#requireDefined();
    const runtime = await this.runtime();
    await checkpointContainer(
      runtime,
      { name: this.name, lxcpath: await this.lxcpath(), config: await this.loadConfig(), running: await this.running(), log: this.#log },
      opts,
    );
  }

  /**
   * Brings the container back from a checkpoint (lxc-checkpoint -r): started as
   * a daemon whose processes are the checkpoint's, resolving once they run
   * (with `foreground`, once the container has stopped). Its pre-start hooks
   * run, and at its end its stop and post-stop hooks, as for a start.
   */
  restore(opts: RestoreOptions & { foreground: true }): Promise<RunResult>;
  restore(opts: RestoreOptions & { foreground?: false }): Promise<Detached>;
  async restore(opts: RestoreOptions): Promise<RunResult | Detached> {
    await this.#requireDefined();
    const checkpointer = checkpointerFor(await this.runtime(), this.name, await this.loadConfig());
    const restore: RunRestore = {
      checkpointer,
      directory: resolve(opts.directory),
      verbose: opts.verbose ?? false,
      ...(opts.actionScript !== undefined ? { actionScript: resolve(opts.actionScript) } : {}),
    };
    if (!existsSync(restore.directory)) {
      throw new LxkitError('LXKIT_CHECKPOINT_FAILED', `cannot restore container "${this.name}": the checkpoint directory ${restore.directory} does not exist`, {
        container: this.name,
        path: restore.directory,
      });
    }
    if (opts.foreground) return this.#run('system', undefined, { console: false, restore, forwardSignals: opts.forwardSignals ?? false });
    return this.#startDetached({ console: false, restore });
  }

  /** The container as its monitor sees it while it runs. */
  async running(): Promise<RunningContainer> {
    return new RunningContainer((await this.paths()).command, this.name);
  }

  /** STOPPED, STARTING, RUNNING, STOPPING, ABORTING (FREEZING, FROZEN, THAWED with cgroups). */
  async state(): Promise<ContainerState> {
    return (await this.running()).state();
  }

  /** The init's pid on the host while the container runs. */
  async initPid(): Promise<number | undefined> {
    return (await (await this.running()).status())?.pid;
  }

  /** lxc-stop: the halt signal, then SIGKILL after `timeout` seconds (see StopOptions). */
  async stop(opts: StopOptions = {}): Promise<void> {
    return (await this.running()).stop(opts);
  }

  /** Resolves true once the container is in one of `states`, false after `timeoutMs`. */
  async wait(states: ContainerState | readonly ContainerState[], timeoutMs?: number): Promise<boolean> {
    return (await this.running()).wait(typeof states === 'string' ? [states] : states, timeoutMs);
  }

  /**
   * Runs `command` (the user's shell when empty) inside the running
   * container, with this process's stdin/stdout/stderr (a pty when stdin is
   * a terminal); resolves with its exit (128+N for signal N), as lxc-attach.
   */
  async attach(command: readonly string[] = [], opts: AttachOptions = {}): Promise<Exit> {
    return (await this.running()).attach(command, opts);
  }

  /** This terminal on the container's tty (lxc-console); see ConsoleOptions. */
  async console(opts: ConsoleOptions = {}): Promise<void> {
    return (await this.running()).console(opts);
  }

  /**
   * What the container wrote to its console lately, kept in memory by its
   * monitor when lxc.console.buffer.size is set (LXC's console_log()): the
   * oldest bytes first; a read moves past what it returns. See ConsoleLogOptions.
   */
  async consoleLog(opts: ConsoleLogOptions = {}): Promise<Buffer> {
    return (await this.running()).consoleLog(opts);
  }

  /** lxc-freeze: FREEZING, then FROZEN once the cgroup freezer holds every process. */
  async freeze(timeoutMs?: number): Promise<void> {
    return (await this.running()).freeze(timeoutMs);
  }

  /** lxc-unfreeze: THAWED, then RUNNING. */
  async unfreeze(timeoutMs?: number): Promise<void> {
    return (await this.running()).unfreeze(timeoutMs);
  }

  /** A cgroup file of the running container (`memory.limit_in_bytes`, `pids.current`…), as lxc-cgroup reads it. */
  async getCgroupItem(key: string): Promise<string> {
    return (await this.running()).getCgroupItem(key);
  }

  /** Writes a cgroup file of the running container (lxc-cgroup KEY VALUE). The config is not changed. */
  async setCgroupItem(key: string, value: string): Promise<void> {
    return (await this.running()).setCgroupItem(key, value);
  }

  /** Calls `listener` at each state change; the returned function stops that. */
  async onState(listener: (state: ContainerState) => void): Promise<() => void> {
    return (await this.running()).subscribe(listener);
  }

  /**
   * Removes the container. A running one is refused (LXKIT_CONTAINER_BUSY),
   * unless `force`: its init is killed first, as `lxc-destroy -f` does, and
   * the destroy waits for it to have stopped.
   */
  async destroy(opts: DestroyOptions = {}): Promise<void> {
    const paths = await this.#requireDefined();
    const runtime = await this.runtime();
    // Before -f kills anything: a destroy that would be refused leaves the container running.
    const snapshots = await this.#dependents(paths, opts.snapshots === true);
    // -f: a running container is killed first, and the destroy waits for its end.
    const forced = opts.force === true && (await (await this.running()).kill(9));
    const lock = await ContainerLock.acquire(paths.lock, this.name, 'destroy', forced ? 30_000 : undefined);
    try {
      const config = await this.loadConfig();
      // -s: each snapshot is a container of its own in <dir>/snaps, destroyed as one (its destroy hook included).
      for (const snap of snapshots) await new Container(snap, { lxcpath: snapshotPath(paths.dir), runtime, log: this.#log }).destroy();
      await runtime.hooks.destroy.promise({
        container: { name: this.name, lxcpath: await this.lxcpath(), config, configFile: paths.config },
        log: this.#log,
      });
      await this.#remove(paths, config.model);
    } finally {
      lock.release();
    }
  }

  /**
   * Copies the stopped container to `newName` (lxc-copy): a snapshot with
   * `snapshot` (btrfs, zfs, lvm, or an overlay on a dir container's rootfs),
   * else a copy of its storage; see CloneOptions. Resolves with the new container.
   */
  async clone(newName: string, opts: CloneOptions = {}): Promise<Container> {
    await this.#requireDefined();
    const runtime = await this.runtime();
    const lxcpath = opts.lxcpath ?? (await this.lxcpath());
    const copy = new Container(newName, { lxcpath, runtime, log: this.#log });
    await cloneContainer(runtime, { name: this.name, lxcpath: await this.lxcpath(), log: this.#log }, copy.name, { ...opts, lxcpath });
    return copy;
  }

  /**
   * Renames the stopped container (lxc-copy -R) as LXC does: a copy under
   * the new name in the same lxcpath, keeping its storage type and hwaddrs
   * (the host name follows the new name), then the destroy of this one.
   * Refused, as by LXC, while it has snapshots or snapshot clones are built
   * on it. Resolves with the renamed container.
   */
  async rename(newName: string): Promise<Container> {
    const paths = await this.#requireDefined();
    const held = [...(await snapshotsOf(paths.dir)).map((s) => `snapshot ${s}`), ...(await clonesOf(paths.dir)).map((c) => `snapshot clone ${c.name} in ${c.lxcpath}`)];
    if (held.length > 0) {
      throw new LxkitError('LXKIT_CONTAINER_HAS_SNAPSHOTS', `cannot rename container "${this.name}": ${held.join(', ')} would be left naming it; destroy them first`, {
        container: this.name,
        path: paths.dir,
      });
    }
    const renamed = await this.clone(checkName(newName), { keepMac: true });
    await this.destroy();
    return renamed;
  }

  /** Takes a snapshot of the stopped container (lxc-snapshot), with `commentFile`'s text as its comment; resolves with its name (`snapN`). */
  async snapshot(commentFile?: string): Promise<string> {
    await this.#requireDefined();
    return takeSnapshot(await this.runtime(), { name: this.name, lxcpath: await this.lxcpath(), log: this.#log }, commentFile);
  }

  /** The container's snapshots (lxc-snapshot -L). */
  async snapshots(): Promise<SnapshotInfo[]> {
    await this.#requireDefined();
    return listSnapshots({ name: this.name, lxcpath: await this.lxcpath(), log: this.#log });
  }

  /**
   * Restores snapshot `snap` (lxc-snapshot -r): as a new container
   * `newName`, or over this one (the default), which is then replaced but
   * keeps its snapshots. Refused while the container runs.
   */
  async snapshotRestore(snap: string, newName: string = this.name): Promise<void> {
    const paths = await this.#requireDefined();
    const runtime = await this.runtime();
    const here = { name: this.name, lxcpath: await this.lxcpath(), log: this.#log };
    const from = { name: snap, lxcpath: await requireSnapshot(here, snap), log: this.#log };
    const opts = { lxcpath: here.lxcpath, keepMac: true, keepName: newName === this.name, snapshot: true, maybeSnapshot: true };
    if (newName !== this.name) {
      await cloneContainer(runtime, from, checkName(newName), opts);
      return;
    }
    const lock = await ContainerLock.acquire(paths.lock, this.name, 'restore a snapshot of');
    try {
      await this.#dependents(paths, true);
      const config = await this.loadConfig();
      // As LXC: the container goes (its storage and config), its snapshots stay, and the snapshot is cloned in its place.
      const { rootfs } = config.model;
      if (rootfs.path && rootfs.managed) {
        const storage = storageOf(runtime, rootfs.path, { container: this.name });
        await storage.backend.destroy(storage.source, this.#target(paths, here.lxcpath));
      }
      await releaseOrigin(paths.dir, { lxcpath: here.lxcpath, name: this.name });
      await emptyBut(paths.dir, snapshotPath(paths.dir));
      this.#document = undefined;
      await cloneContainer(runtime, from, this.name, { ...opts, intoExisting: true });
    } finally {
      lock.release();
    }
  }

  /** Destroys snapshot `snap` (lxc-snapshot -d). */
  async snapshotDestroy(snap: string): Promise<void> {
    await this.#requireDefined();
    const here = { name: this.name, lxcpath: await this.lxcpath(), log: this.#log };
    const lxcpath = await requireSnapshot(here, snap);
    await new Container(snap, { lxcpath, runtime: await this.runtime(), log: this.#log }).destroy();
  }

  /**
   * Refuses a destroy that would take what depends on the container with it,
   * as LXC's does: snapshot clones (always: their root filesystems are built
   * on this one's), snapshots (unless `withSnapshots`, which then gives them).
   */
  async #dependents(paths: ContainerPaths, withSnapshots: boolean): Promise<string[]> {
    const clones = await clonesOf(paths.dir);
    if (clones.length > 0) {
      throw new LxkitError(
        'LXKIT_CONTAINER_HAS_CLONES',
        `cannot destroy container "${this.name}": snapshot clones use its root filesystem (${clones.map((c) => `${c.name} in ${c.lxcpath}`).join(', ')}): destroy them first`,
        { container: this.name, path: join(paths.dir, 'lxc_snapshots') },
      );
    }
    const snapshots = await snapshotsOf(paths.dir);
    if (snapshots.length > 0 && !withSnapshots) {
      throw new LxkitError(
        'LXKIT_CONTAINER_HAS_SNAPSHOTS',
        `cannot destroy container "${this.name}": it has snapshots (${snapshots.join(', ')}); -s (--snapshots) destroys them with it`,
        { container: this.name, path: snapshotPath(paths.dir) },
      );
    }
    return snapshots;
  }

  /**
   * Removes the container's directory and its root filesystem where that is
   * elsewhere (rootfs-removal.ts), and takes a snapshot clone off its
   * origin's list. A user other than root cannot remove files that belong to
   * the container's subordinate ids: the root filesystem goes first, from
   * inside a user namespace with the container's maps.
   */
  async #remove(paths: ContainerPaths, model: { idmap: readonly IdMap[]; rootfs?: { path?: string; managed: boolean } }): Promise<void> {
    const { idmap, rootfs } = model;
    // Storage LXC does not manage is not a destroy's to touch, whatever its type.
    const doing = `cannot destroy container "${this.name}"`;
    const storage = rootfs?.path && rootfs.managed ? storageOf(await this.runtime(), rootfs.path, { container: this.name, doing }) : undefined;
    const dirs = [paths.rootfs, ...(storage?.backend.directories?.(storage.source) ?? [])];
    await removeAsContainerRoot(dirs, idmap, { what: `removing the root filesystem of container "${this.name}"`, log: this.#log });
    if (storage) await storage.backend.destroy(storage.source, this.#target(paths, await this.lxcpath()));
    await releaseOrigin(paths.dir, { lxcpath: await this.lxcpath(), name: this.name });
    await rm(paths.dir, { recursive: true, force: true });
    pruneEmptyDirs(paths.lock, runDir());
  }

  /** The container as its storage backend sees it. */
  #target(paths: ContainerPaths, lxcpath: string): StorageTarget {
    return { name: this.name, lxcpath, dir: paths.dir, log: this.#log };
  }

  /** lxc-create's storage options over the toolkit's defaults (lxc.bdev.zfs.root, lxc.bdev.lvm.vg and thin_pool). */
  #storageDefaults(runtime: Runtime, given: StorageOptions | undefined): StorageOptions {
    const t = runtime.toolkit;
    return { zfsroot: t.zfs.root, vgname: t.lvm.vg, thinpool: t.lvm.thinPool, ...given };
  }

  /** The document of the container's own config file (edits stay in memory until saveConfig). */
  async #doc(): Promise<ConfigDocument> {
    if (!this.#document) {
      const paths = await this.#requireDefined();
      this.#document = ConfigDocument.fromBuffer(await readFile(paths.config), paths.config);
    }
    return this.#document;
  }

  /** The value of a key (a list for repeatable keys), includes and legacy keys taken into account. */
  async getConfigItem(key: string): Promise<string | string[] | undefined> {
    const config = await this.loadConfig();
    return isRepeatableKey(key) ? config.getAll(key) : config.get(key);
  }

  /**
   * Sets a key in the container's config (in memory; saveConfig writes it):
   * a repeatable key gets one more value, another key is replaced, an empty
   * value clears. The result must still validate.
   */
  async setConfigItem(key: string, value: string): Promise<void> {
    const doc = await this.#doc();
    const before = doc.toString();
    if (value === '' || !isRepeatableKey(key)) doc.set(key, value);
    else doc.append(key, value);
    try {
      await loadContainerConfig(await this.runtime(), { text: doc.toString(), name: doc.path ?? this.name });
    } catch (err) {
      this.#document = ConfigDocument.parse(before, doc.path);
      throw err;
    }
  }

  async saveConfig(path?: string): Promise<void> {
    const doc = await this.#doc();
    const target = path ?? doc.path!;
    const mode = await stat(target).then((s) => s.mode & 0o777, () => 0o640);
    await writeFile(target, doc.toBuffer(), { mode });
  }
}

/** The id maps a config document names (unparseable lines are left to validation). */
function idmapOf(doc: ConfigDocument | undefined): IdMap[] {
  const maps: IdMap[] = [];
  for (const value of doc?.getAll('lxc.idmap') ?? []) {
    try {
      maps.push(parseIdMap(value));
    } catch {
      // Reported when the config is loaded.
    }
  }
  return maps;
}

export { listContainers } from './list.js';
