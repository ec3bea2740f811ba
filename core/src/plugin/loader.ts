/**
 * Resolving, importing and ordering the plugins a toolkit config names.
 *
 * A specifier is a built-in short name (`seccomp` → `@lxkit/plugin-seccomp`),
 * a path (`./site/audit.js`, resolved against the config file that names it)
 * or a package name (resolved from that config file's directory). The three
 * ways to fail are distinct errors: not found, failed to load, options invalid.
 */
import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LxkitError, messageOf } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { VERSION } from '../version.js';
import { isPlugin } from './brand.js';
import { BUILTIN_PLUGINS, CORE_URL, builtinEntry } from './builtins.js';
import type { Plugin } from './define.js';
import { importMetaResolve, importUrl } from '../esm-imports.js';

/** One entry of the toolkit config's `plugins` list. */
export interface PluginSpec {
  /** Specifier, or a plugin object (from a JavaScript config or the library API). */
  readonly use: string | Plugin<unknown>;
  readonly options?: unknown;
  /** The config file that names the plugin; relative specifiers resolve against it. */
  readonly from?: string;
}

export interface LoadedPlugin {
  readonly plugin: Plugin<unknown>;
  /** Options after schema validation (what apply() receives). */
  readonly options: unknown;
  /** How the config named it. */
  readonly specifier: string;
  /** Where it was loaded from (a file URL), or `<object>`. */
  readonly url: string;
}

function isPathSpecifier(s: string): boolean {
  return s.startsWith('./') || s.startsWith('../') || isAbsolute(s) || s.startsWith('file:');
}

async function resolveSpecifier(spec: string, from: string | undefined): Promise<string> {
  const notFound = (cause?: unknown) =>
    new LxkitError(
      'LXKIT_PLUGIN_NOT_FOUND',
      `plugin "${spec}" not found` +
        (from ? ` (named in ${from})` : '') +
        (Object.hasOwn(BUILTIN_PLUGINS, spec) ? `: ${BUILTIN_PLUGINS[spec]} is not installed` : ''),
      { cause, ...(from ? { file: from } : {}), plugin: spec },
    );
  if (isPathSpecifier(spec)) {
    const path = spec.startsWith('file:') ? fileURLToPath(spec) : resolvePath(from ? dirname(from) : process.cwd(), spec);
    try {
      await access(path);
    } catch (err) {
      throw notFound(err);
    }
    return pathToFileURL(path).href;
  }
  if (Object.hasOwn(BUILTIN_PLUGINS, spec)) {
    // Built-ins are CommonJS packages next to the core: found without the ESM loader.
    const entry = builtinEntry(spec);
    if (!entry) throw notFound();
    return pathToFileURL(entry).href;
  }
  try {
    const { resolve } = await importMetaResolve();
    return resolve(spec, pathToFileURL(from ?? `${process.cwd()}/`).href);
  } catch (err) {
    throw notFound(err);
  }
}

let coreExports: unknown;
const CORE_KEY = Symbol.for('@lxkit/core');

/**
 * The core's public exports (set by index.ts). While a CommonJS plugin
 * loads, they are at globalThis[Symbol.for('@lxkit/core')]: the built-in
 * plugins' bundles take the core from there (scripts/build.mjs) instead of
 * resolving `@lxkit/core` from their own directory — ~3 ms of a CLI start —
 * and so always work with the core that loads them (its LxkitError, its
 * plugin brand), as webpack plugins use `compiler.webpack`.
 */
export function provideCore(exports: unknown): void {
  coreExports = exports;
}

function requireWithCore(path: string): unknown {
  const g = globalThis as Record<symbol, unknown>;
  const before = g[CORE_KEY];
  if (coreExports) g[CORE_KEY] = coreExports;
  try {
    // The bundle's own require when the core runs as CommonJS: the CLI's loader then loads lxkit's
    // plugins without Node's module resolution (core/bin/lxkit.cjs).
    return (typeof require === 'function' ? require : createRequire(CORE_URL))(path);
  } finally {
    g[CORE_KEY] = before;
  }
}

async function importPlugin(spec: string, url: string, from: string | undefined): Promise<Plugin<unknown>> {
  let mod: { default?: unknown };
  try {
    // A CommonJS plugin (the built-ins) is required directly: import() would start the ESM loader
    // and make it re-parse the core to see its exports.
    mod = url.endsWith('.cjs') ? (requireWithCore(fileURLToPath(url)) as { default?: unknown }) : ((await importUrl(url)) as { default?: unknown });
  } catch (err) {
    throw new LxkitError('LXKIT_PLUGIN_LOAD_FAILED', `plugin "${spec}" failed to load: ${messageOf(err)}`, {
      cause: err,
      plugin: spec,
      ...(from ? { file: from } : {}),
    });
  }
  if (!isPlugin(mod.default)) {
    throw new LxkitError(
      'LXKIT_PLUGIN_LOAD_FAILED',
      `plugin "${spec}" failed to load: its default export is not a plugin (use definePlugin from @lxkit/core)`,
      { plugin: spec, ...(from ? { file: from } : {}) },
    );
  }
  return mod.default;
}

async function validateOptions(plugin: Plugin<unknown>, given: unknown, from: string | undefined): Promise<unknown> {
  const where = from ? ` (in ${from})` : '';
  if (!plugin.options) {
    if (given === undefined) return undefined;
    throw new LxkitError('LXKIT_PLUGIN_OPTIONS_INVALID', `plugin "${plugin.name}" takes no options${where}`, {
      plugin: plugin.name,
      ...(from ? { file: from } : {}),
    });
  }
  const result = await plugin.options['~standard'].validate(given);
  if (!result.issues) return result.value;
  const lines = result.issues.map((i) => {
    const path = (i.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.');
    return `  ${path || '(options)'}: ${i.message}`;
  });
  throw new LxkitError(
    'LXKIT_PLUGIN_OPTIONS_INVALID',
    `options of plugin "${plugin.name}" are invalid${where}:\n${lines.join('\n')}`,
    { plugin: plugin.name, ...(from ? { file: from } : {}) },
  );
}

/** semver, loaded on the first plugin load only (it costs ~4 ms to load). */
function semver() {
  const req = createRequire(CORE_URL);
  return {
    satisfies: req('semver/functions/satisfies.js') as typeof import('semver/functions/satisfies.js'),
    valid: req('semver/functions/valid.js') as typeof import('semver/functions/valid.js'),
    validRange: req('semver/ranges/valid.js') as typeof import('semver/ranges/valid.js'),
  };
}

/** Built-in plugins share the core's version and range: nothing to check (and semver stays unloaded). */
function sharesOurVersion(plugin: Plugin<unknown>): boolean {
  return plugin.version === VERSION && (plugin.lxkit === undefined || plugin.lxkit === `^${VERSION}`);
}

async function checkVersions(plugin: Plugin<unknown>): Promise<void> {
  if (sharesOurVersion(plugin)) return;
  const { valid, validRange } = semver();
  const bad = (what: string) =>
    new LxkitError('LXKIT_PLUGIN_LOAD_FAILED', `plugin "${plugin.name}" failed to load: ${what}`, { plugin: plugin.name });
  if (!valid(plugin.version)) throw bad(`version ${JSON.stringify(plugin.version)} is not a semver version`);
  if (plugin.lxkit !== undefined && validRange(plugin.lxkit) === null) {
    throw bad(`lxkit range ${JSON.stringify(plugin.lxkit)} is not a semver range`);
  }
}

/** Orders plugins so that each comes after what it depends on, otherwise keeping config order. */
function order(loaded: LoadedPlugin[]): LoadedPlugin[] {
  const byName = new Map(loaded.map((l) => [l.plugin.name, l]));
  const out: LoadedPlugin[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (l: LoadedPlugin, chain: string[]) => {
    const name = l.plugin.name;
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      throw new LxkitError('LXKIT_PLUGIN_DEPENDENCY', `plugins depend on each other in a loop: ${[...chain, name].join(' -> ')}`, {
        plugin: name,
      });
    }
    state.set(name, 'visiting');
    for (const dep of l.plugin.dependsOn ?? []) {
      const d = byName.get(dep);
      if (!d) {
        throw new LxkitError(
          'LXKIT_PLUGIN_DEPENDENCY',
          `plugin "${name}" depends on plugin "${dep}", which is not enabled`,
          { plugin: name },
        );
      }
      visit(d, [...chain, name]);
    }
    state.set(name, 'done');
    out.push(l);
  };
  for (const l of loaded) visit(l, []);
  return out;
}

/** Resolves, imports and validates every plugin of `specs`, in dependency order. */
export async function loadPlugins(specs: readonly PluginSpec[], log: Logger): Promise<LoadedPlugin[]> {
  const loaded: LoadedPlugin[] = [];
  const seen = new Map<string, string>();
  for (const spec of specs) {
    let plugin: Plugin<unknown>;
    let url: string;
    let specifier: string;
    if (typeof spec.use === 'string') {
      specifier = spec.use;
      url = await resolveSpecifier(spec.use, spec.from);
      plugin = await importPlugin(spec.use, url, spec.from);
    } else if (isPlugin(spec.use)) {
      plugin = spec.use;
      specifier = plugin.name;
      url = '<object>';
    } else {
      throw new LxkitError('LXKIT_PLUGIN_LOAD_FAILED', `a plugins entry is neither a specifier nor a plugin object`, {
        ...(spec.from ? { file: spec.from } : {}),
      });
    }
    await checkVersions(plugin);
    if (plugin.lxkit !== undefined && !sharesOurVersion(plugin) && !semver().satisfies(VERSION, plugin.lxkit, { includePrerelease: true })) {
      throw new LxkitError(
        'LXKIT_PLUGIN_INCOMPATIBLE',
        `plugin "${plugin.name}" ${plugin.version} needs lxkit ${plugin.lxkit}, this is ${VERSION}`,
        { plugin: plugin.name },
      );
    }
    const previous = seen.get(plugin.name);
    if (previous !== undefined) {
      throw new LxkitError(
        'LXKIT_PLUGIN_DUPLICATE',
        `plugin "${plugin.name}" is enabled twice (as "${previous}" and as "${specifier}")`,
        { plugin: plugin.name },
      );
    }
    seen.set(plugin.name, specifier);
    const options = await validateOptions(plugin, spec.options, spec.from);
    log.debug(`loaded plugin ${plugin.name} ${plugin.version} from ${url}`);
    loaded.push({ plugin, options, specifier, url });
  }
  return order(loaded);
}
