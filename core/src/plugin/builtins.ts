/** The built-in plugins, by short name. A distribution may leave any of them out. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { PluginSpec } from './loader.js';

export const BUILTIN_PLUGINS: Readonly<Record<string, string>> = {
  apparmor: '@lxkit/plugin-apparmor',
  caps: '@lxkit/plugin-caps',
  cgmanager: '@lxkit/plugin-cgmanager',
  criu: '@lxkit/plugin-criu',
  net: '@lxkit/plugin-net',
  seccomp: '@lxkit/plugin-seccomp',
  'storage-btrfs': '@lxkit/plugin-storage-btrfs',
  'storage-loop': '@lxkit/plugin-storage-loop',
  'storage-lvm': '@lxkit/plugin-storage-lvm',
  'storage-overlay': '@lxkit/plugin-storage-overlay',
  'storage-zfs': '@lxkit/plugin-storage-zfs',
  templates: '@lxkit/plugin-templates',
};

/**
 * Where built-ins are resolved from: next to this core, not next to the
 * user's config. (The library is built as CommonJS; the build defines
 * import.meta.url from __filename.)
 */
export const CORE_URL = import.meta.url;

/**
 * The entry file of a built-in plugin package, or undefined when it is not
 * installed. Looked for beside the core first, where lxkit's packages sit
 * (node_modules/@lxkit/plugin-<name>, or plugins/<name> in the workspace):
 * a path and one package.json read, where resolving the package name through
 * its exports map costs ~1 ms per plugin at every start. By name otherwise.
 */
export function builtinEntry(name: string): string | undefined {
  if (!entries.has(name)) entries.set(name, findBuiltin(name));
  return entries.get(name);
}

/** Where each built-in was found (or not): installedBuiltins and the loader both ask, for every runtime. */
const entries = new Map<string, string | undefined>();

function findBuiltin(name: string): string | undefined {
  const pkgName = BUILTIN_PLUGINS[name];
  if (!pkgName || !Object.hasOwn(BUILTIN_PLUGINS, name)) return undefined;
  for (const dir of [`../../plugin-${name}/`, `../../plugins/${name}/`]) {
    const base = new URL(dir, CORE_URL);
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', base), 'utf8')) as { name?: string; main?: string };
      if (pkg.name === pkgName && pkg.main) return fileURLToPath(new URL(pkg.main, base));
    } catch {
      // Not there.
    }
  }
  try {
    return createRequire(CORE_URL).resolve(pkgName);
  } catch {
    return undefined;
  }
}

/** The built-in plugins that are installed, as specs (what `'...'` in a config stands for). */
export function installedBuiltins(): PluginSpec[] {
  // Left out by the distribution: not an error, just not a default.
  return Object.keys(BUILTIN_PLUGINS)
    .filter((name) => builtinEntry(name) !== undefined)
    .map((name) => ({ use: name }));
}
