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
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerConfig } from '../config/container-config.js';
import { ConfigDocument } from '../config/document.js';
import { loadContainerConfig } from '../config/load.js';
import { LxkitError, messageOf } from '../errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { Runtime } from '../runtime.js';
import { runContainer, type ContainerState, type RunResult } from '../start/run.js';
import { runInUserNamespace, withCallerIds } from '../start/userns-run.js';
import type { IdMap } from '../config/core-keys/model.js';
import { parseIdMap } from '../config/core-keys/idmap.js';
import type { Exit } from '../start/monitor.js';
import { ContainerLock } from './lock.js';
import { checkName } from './name.js';
import { containerPaths, type ContainerPaths } from './paths.js';
import { isRepeatableKey } from './repeatable.js';

export type { ContainerState } from '../start/run.js';

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
  /** Run in the foreground until the container stops. (Daemon mode comes with the monitor's command socket.) */
  foreground?: boolean;
  /** Command instead of lxc.init.cmd. */
  command?: readonly string[];
  /** Give the init a console pty proxied to this process's stdio (default: true). */
  console?: boolean;
}

export interface ExecuteOptions extends RunOptionsBase {
  /** The command's user and group ids (`-u`, `-g`), instead of lxc.init.uid/gid. */
  uid?: number;
  gid?: number;
}

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

  get #log(): Logger {
    return this.#opts.log ?? silentLogger;
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
    await mkdir(lxcpath, { recursive: true, mode: 0o755 });
    const lock = await ContainerLock.acquire(paths.lock, this.name, 'create');
    let made = false;
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
      await mkdir(paths.rootfs, { mode: 0o755 });
      const base = opts.configFile ?? runtime.toolkit.defaultConfig;
      const text = await readFile(base, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (opts.configFile || err.code !== 'ENOENT') {
          throw new LxkitError('LXKIT_CONFIG_READ', `cannot read ${base}: ${err.code ?? err.message}`, { cause: err, path: base });
        }
        return '';
      });
      doc = ConfigDocument.parse(text.length && !text.endsWith('\n') ? text + '\n' : text, paths.config);
      if (template) {
        try {
          await template.create({
            name: this.name,
            lxcpath,
            dir: paths.dir,
            rootfs: paths.rootfs,
            args: opts.templateArgs ?? [],
            config: doc,
            log: this.#log,
            hasPlugin: (p) => runtime.hasPlugin(p),
          });
        } catch (err) {
          throw new LxkitError('LXKIT_TEMPLATE_FAILED', `template "${opts.template}" failed for container "${this.name}": ${messageOf(err)}`, {
            cause: err,
            container: this.name,
          });
        }
      }
      if (doc.get('lxc.rootfs.path') === undefined) doc.set('lxc.rootfs.path', `dir:${paths.rootfs}`);
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
      if (made) await this.#remove(paths, idmapOf(doc));
      throw err;
    } finally {
      lock.release();
    }
  }

  /** Runs the container (in the foreground: resolves when it has stopped). */
  async start(opts: StartOptions = {}): Promise<RunResult> {
    if (opts.foreground === false) {
      throw new LxkitError('LXKIT_UNSUPPORTED', 'daemon mode is not available yet: start in the foreground', { container: this.name });
    }
    if (!opts.configFile) await this.#requireDefined();
    for (;;) {
      const result = await this.#run('system', opts.command, { ...opts, console: opts.console ?? true });
      if (!result.reboot) return result;
      this.#log.info(`container ${this.name} asked for a reboot: starting it again`);
    }
  }

  /** An application container: `command` runs under a small init; resolves with its exit (128+N for signal N). */
  async execute(command: readonly string[], opts: ExecuteOptions = {}): Promise<Exit> {
    const { exit } = await this.#run('application', command, { console: false, ...opts });
    return exit;
  }

  async #run(
    kind: 'system' | 'application',
    command: readonly string[] | undefined,
    opts: ExecuteOptions & { console: boolean },
  ): Promise<RunResult> {
    const runtime = await this.runtime();
    const lxcpath = await this.lxcpath();
    const paths = await this.paths();
    const config = await this.loadConfig({
      ...(opts.configFile ? { configFile: opts.configFile } : {}),
      ...(opts.defines ? { defines: opts.defines } : {}),
    });
    const lock = await ContainerLock.acquire(paths.lock, this.name, 'start');
    try {
      const result = await runContainer(runtime, {
        name: this.name,
        lxcpath,
        config,
        paths,
        lock,
        kind,
        ...(command ? { command } : {}),
        ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
        ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
        console: opts.console,
        log: this.#log,
        ...(opts.onState ? { onState: opts.onState } : {}),
        forwardSignals: opts.forwardSignals ?? false,
      });
      if (config.model.ephemeral && (await this.defined())) await this.#remove(paths, config.model.idmap);
      return result;
    } finally {
      lock.release();
    }
  }

  async state(): Promise<ContainerState> {
    const paths = await this.paths();
    if (!ContainerLock.held(paths.lock)) return 'STOPPED';
    try {
      const s = JSON.parse(await readFile(paths.state, 'utf8')) as { state?: ContainerState };
      return s.state ?? 'STOPPED';
    } catch {
      // Locked without a state file: a create or destroy is running.
      return 'STOPPED';
    }
  }

  /** The init's pid on the host while the container runs. */
  async initPid(): Promise<number | undefined> {
    const paths = await this.paths();
    if (!ContainerLock.held(paths.lock)) return undefined;
    try {
      return (JSON.parse(await readFile(paths.state, 'utf8')) as { pid?: number }).pid;
    } catch {
      return undefined;
    }
  }

  /**
   * Removes the container. A running one is refused (LXKIT_CONTAINER_BUSY),
   * unless `force`: its init is killed first, as `lxc-destroy -f` does, and
   * the destroy waits for it to have stopped.
   */
  async destroy(opts: { force?: boolean } = {}): Promise<void> {
    const paths = await this.#requireDefined();
    const runtime = await this.runtime();
    const forced = opts.force === true && this.#killInit(await this.initPid());
    const lock = await ContainerLock.acquire(paths.lock, this.name, 'destroy', forced ? 30_000 : undefined);
    try {
      const config = await this.loadConfig();
      await runtime.hooks.destroy.promise({
        container: { name: this.name, lxcpath: await this.lxcpath(), config, configFile: paths.config },
        log: this.#log,
      });
      await this.#remove(paths, config.model.idmap);
    } finally {
      lock.release();
    }
  }

  /**
   * SIGKILL to a running container's init. The pid comes from the state file,
   * so it is checked to still be the init of a pid namespace (NSpid ends in 1)
   * before anything is sent to it.
   */
  #killInit(pid: number | undefined): boolean {
    if (!pid) return false;
    try {
      const nspid = /^NSpid:\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]?.trim().split(/\s+/);
      if (!nspid || nspid.length < 2 || nspid[nspid.length - 1] !== '1') return false;
      process.kill(pid, 'SIGKILL');
      this.#log.info(`container ${this.name}: killed its init (pid ${pid}) to destroy it`);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Removes the container's directory. A user other than root cannot remove
   * files that belong to the container's subordinate ids: the rootfs goes
   * first, from inside a user namespace with the container's maps.
   */
  async #remove(paths: ContainerPaths, idmap: readonly IdMap[] = []): Promise<void> {
    if (process.getuid?.() !== 0 && idmap.length > 0 && existsSync(paths.rootfs)) {
      await runInUserNamespace({
        idmap: withCallerIds(idmap),
        argv: ['rm', '-rf', '--one-file-system', paths.rootfs],
        what: `removing the root filesystem of container "${this.name}"`,
        log: this.#log,
      });
    }
    await rm(paths.dir, { recursive: true, force: true });
    await rm(paths.lock, { force: true });
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

/** Containers of an lxcpath: directories holding a config file, in name order. */
export async function listContainers(lxcpath: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(lxcpath);
  } catch {
    return [];
  }
  return names.filter((n) => existsSync(join(lxcpath, n, 'config'))).sort();
}
