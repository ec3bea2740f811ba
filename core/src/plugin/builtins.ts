/** The built-in plugins, by short name. A distribution may leave any of them out. */
import { createRequire } from 'node:module';
import type { PluginSpec } from './loader.js';

export const BUILTIN_PLUGINS: Readonly<Record<string, string>> = {
  apparmor: '@lxkit/plugin-apparmor',
  caps: '@lxkit/plugin-caps',
  cgmanager: '@lxkit/plugin-cgmanager',
  net: '@lxkit/plugin-net',
  seccomp: '@lxkit/plugin-seccomp',
  templates: '@lxkit/plugin-templates',
};

/**
 * Where built-ins are resolved from: next to this core, not next to the
 * user's config. (The library is built as CommonJS; the build defines
 * import.meta.url from __filename.)
 */
export const CORE_URL = import.meta.url;

/** The built-in plugins that are installed, as specs (what `'...'` in a config stands for). */
export function installedBuiltins(): PluginSpec[] {
  // require.resolve of package.json is enough to see what is installed, and
  // much cheaper than ESM resolution (this runs for `lxkit config -l`).
  const require = createRequire(CORE_URL);
  const out: PluginSpec[] = [];
  for (const [name, pkg] of Object.entries(BUILTIN_PLUGINS)) {
    try {
      require.resolve(`${pkg}/package.json`);
      out.push({ use: name });
    } catch {
      // Left out by the distribution: not an error, just not a default.
    }
  }
  return out;
}
