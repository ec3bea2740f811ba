/**
 * Where the toolkit configuration may be (see config.ts) and the defaults
 * that hold without one. Kept apart from the reading (cosmiconfig, valibot)
 * so that a command that needs only the lxcpath learns it from a few
 * stat() calls when no configuration file exists.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const SEARCH_PLACES = ['config.yaml', 'config.yml', 'config.json', 'config.js', 'config.mjs', 'config.cjs'];


const isRoot = () => process.getuid?.() === 0;

/** System-wide directory; LXKIT_SYSCONFDIR moves it (tests, relocatable installs). */
export function systemConfigDir(): string {
  return process.env['LXKIT_SYSCONFDIR'] ?? '/etc/lxkit';
}

export function userConfigDir(): string {
  return join(process.env['XDG_CONFIG_HOME'] || join(homedir(), '.config'), 'lxkit');
}

/** Directories searched, in order, when no --rcfile is given. */
export function searchDirs(): string[] {
  return isRoot() ? [systemConfigDir()] : [userConfigDir(), systemConfigDir()];
}

/**
 * Where lxkit keeps what it can rebuild (compiled seccomp filters, AppArmor
 * policy caches), one subdirectory per kind: /var/cache/lxkit for root,
 * the XDG cache otherwise; LXKIT_CACHE_DIR moves it.
 */
export function cacheDir(kind: string): string {
  if (process.env['LXKIT_CACHE_DIR']) return join(process.env['LXKIT_CACHE_DIR'], kind);
  if (isRoot()) return join('/var/cache/lxkit', kind);
  return join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'lxkit', kind);
}

export function defaultLxcpath(): string {
  if (isRoot()) return '/var/lib/lxkit';
  return join(process.env['XDG_DATA_HOME'] || join(homedir(), '.local', 'share'), 'lxkit');
}

export function defaultContainerConfig(): string {
  return isRoot() ? join(systemConfigDir(), 'default.conf') : join(userConfigDir(), 'default.conf');
}

/** The first toolkit config file of the search, or undefined when there is none (the defaults apply). */
export function findToolkitConfigFile(): string | undefined {
  for (const dir of searchDirs()) {
    for (const place of SEARCH_PLACES) {
      const file = join(dir, place);
      if (existsSync(file)) return file;
    }
  }
  return undefined;
}
