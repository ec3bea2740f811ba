/**
 * The plugin contract. A plugin module's default export is the value of
 * `definePlugin({...})`:
 *
 * ```ts
 * import { definePlugin } from '@lxkit/core';
 * import * as v from 'valibot';
 *
 * export default definePlugin({
 *   name: 'site-audit',
 *   version: '1.0.0',
 *   lxkit: '^0.1.0',
 *   dependsOn: ['net'],
 *   options: v.object({ logDir: v.string() }),
 *   apply(runtime, options) {
 *     runtime.hooks.postStop.tapPromise('site-audit', async (ctx) => { ... });
 *   },
 * });
 * ```
 *
 * `options` is any Standard Schema (valibot, zod, arktype...): the loader
 * validates what the toolkit config gives the plugin before apply() sees it.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Runtime } from '../runtime.js';
import { PLUGIN_BRAND } from './brand.js';

export { PLUGIN_BRAND, isPlugin } from './brand.js';

export interface PluginDefinition<Options = undefined> {
  /** Short, unique name: how configs refer to it and how errors name it. */
  readonly name: string;
  /** The plugin's own version (semver). */
  readonly version: string;
  /** Range of lxkit core versions the plugin works with (semver range, e.g. `^0.1.0`). */
  readonly lxkit?: string;
  /** Names of plugins that must be enabled, and are applied before this one. */
  readonly dependsOn?: readonly string[];
  /** Schema of the options the toolkit config may give; without one, the plugin takes none. */
  readonly options?: StandardSchemaV1<unknown, Options>;
  /**
   * Whether a start this plugin takes part in may be replayed from a launch
   * plan (docs/launch-plans.md): what its taps do at a start follows from
   * what they read through node:fs and from the container's config alone,
   * with no clock, randomness, state kept between starts, process, socket or
   * native call (those the recorder sees refuse the plan anyway). A plugin
   * that does not say so makes every start a Node one.
   */
  readonly replayable?: boolean;
  /** Taps hooks. Runs once per runtime, in dependency order. */
  apply(runtime: Runtime, options: Options): void | Promise<void>;
}

export interface Plugin<Options = undefined> extends PluginDefinition<Options> {
  readonly [PLUGIN_BRAND]: true;
}

const NAME = /^[a-z0-9][a-z0-9._-]*$/;

export function definePlugin<Options = undefined>(definition: PluginDefinition<Options>): Plugin<Options> {
  const { name, version, lxkit, dependsOn, apply } = definition;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new TypeError(`plugin name ${JSON.stringify(name)} must be lowercase letters, digits, '.', '_' or '-'`);
  }
  // Version and range are checked for semver validity when the loader loads
  // the plugin; semver is not loaded on paths that load no plugin.
  if (typeof version !== 'string' || version === '') {
    throw new TypeError(`plugin "${name}": version must be a semver version string`);
  }
  if (lxkit !== undefined && typeof lxkit !== 'string') {
    throw new TypeError(`plugin "${name}": lxkit must be a semver range string`);
  }
  if (dependsOn !== undefined && (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== 'string'))) {
    throw new TypeError(`plugin "${name}": dependsOn must be a list of plugin names`);
  }
  if (typeof apply !== 'function') throw new TypeError(`plugin "${name}": apply must be a function`);
  return Object.freeze({ ...definition, [PLUGIN_BRAND]: true as const });
}
