/**
 * The runtime: the hook bus, the toolkit configuration and the applied
 * plugins. Built-in features of the core are applied as plugins first (as
 * webpack applies its own), then the configured plugins in dependency order.
 */
import { corePlugins } from './builtins/index.js';
import { ConfigCache } from './config/cache.js';
import { LxkitError, messageOf } from './errors.js';
import { createHooks, type BusState, type Hooks } from './hooks/bus.js';
import { silentLogger, type Logger } from './log/logger.js';
import type { Plugin } from './plugin/define.js';
import { loadPlugins, type LoadedPlugin, type PluginSpec } from './plugin/loader.js';
import { loadToolkitConfig, type ToolkitConfig, type ToolkitConfigOptions } from './toolkit/config.js';
import { VERSION } from './version.js';
import { planRecorder } from './launch-plan/active.js';

export interface RuntimeOptions extends ToolkitConfigOptions {
  /** An already loaded toolkit config; otherwise it is searched for (or read from `rcfile`). */
  toolkit?: ToolkitConfig;
  /**
   * The plugins to apply instead of the toolkit config's list: how a program
   * composes its own runtime (`[]` gives the bare core).
   */
  plugins?: readonly PluginSpec[];
  log?: Logger;
}

export class Runtime {
  static readonly version = VERSION;
  readonly version = VERSION;
  readonly hooks: Readonly<Hooks>;
  readonly toolkit: ToolkitConfig;
  readonly log: Logger;
  /** Container configs already read and validated by this runtime's plugins. */
  readonly configCache = new ConfigCache();
  readonly #state: BusState;
  readonly #plugins: LoadedPlugin[] = [];
  /** standInForIncludes(): [missing directory, the one standing in for it]. */
  readonly #standIns: [string, string][] = [];

  private constructor(toolkit: ToolkitConfig, log: Logger) {
    this.toolkit = toolkit;
    this.log = log;
    this.#state = { applying: undefined };
    this.hooks = createHooks(this.#state);
  }

  /** Loads the toolkit config (unless given) and every plugin it names, and applies them. */
  static async create(options: RuntimeOptions = {}): Promise<Runtime> {
    const log = options.log ?? silentLogger;
    const toolkit = options.toolkit ?? (await loadToolkitConfig(options));
    const runtime = new Runtime(toolkit, log);
    for (const p of corePlugins) await runtime.#apply({ plugin: p as Plugin<unknown>, options: undefined, specifier: p.name, url: '<core>' });
    for (const loaded of await loadPlugins(options.plugins ?? toolkit.plugins, log)) await runtime.#apply(loaded);
    return runtime;
  }

  async #apply(loaded: LoadedPlugin): Promise<void> {
    const { plugin } = loaded;
    if (plugin.replayable !== true) planRecorder()?.refuse(`plugin "${plugin.name}" is not replayable`);
    this.#state.applying = plugin.name;
    try {
      await plugin.apply(this, loaded.options);
    } catch (err) {
      throw new LxkitError('LXKIT_PLUGIN_APPLY_FAILED', `plugin "${plugin.name}" failed to apply: ${messageOf(err)}`, {
        cause: err,
        plugin: plugin.name,
      });
    } finally {
      this.#state.applying = undefined;
    }
    this.#plugins.push(loaded);
  }

  /** Applied plugins (the core's own first), in the order they were applied. */
  get plugins(): readonly LoadedPlugin[] {
    return this.#plugins;
  }

  /**
   * Has `own` stand in for `dir` where a config's lxc.include names a file
   * below `dir` that is not there: the templates plugin's own snippets for
   * LXC's /usr/share/lxc/config on a host without LXC, so that containers
   * LXC made read unchanged. Each use is a warning on the line.
   */
  standInForIncludes(dir: string, own: string): void {
    this.#standIns.push([dir.replace(/\/+$/, ''), own.replace(/\/+$/, '')]);
  }

  /** What stands in for the missing include `target`, if a plugin named something. */
  includeStandIn(target: string): string | undefined {
    const found = this.#standIns.find(([dir]) => target.startsWith(`${dir}/`));
    return found ? found[1] + target.slice(found[0].length) : undefined;
  }

  hasPlugin(name: string): boolean {
    return this.#plugins.some((p) => p.plugin.name === name);
  }
}

export const createRuntime = (options?: RuntimeOptions): Promise<Runtime> => Runtime.create(options);
