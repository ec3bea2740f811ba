/**
 * Toolkit configuration: which plugins to load and the lxc.system.conf(5)
 * globals (lxcpath, default container config, LVM/ZFS defaults, cgroup
 * settings).
 *
 * Found with cosmiconfig in exactly one place: an explicit `--rcfile`; else,
 * for a non-root user, ~/.config/lxkit/ (XDG_CONFIG_HOME) and then the
 * system-wide directory; for root, only the system-wide /etc/lxkit/. The first
 * file found is used whole (as LXC does with lxc.conf; nothing is merged). A
 * `plugins` entry `'...'` stands for the built-in plugins that are installed.
 */
import { resolve as resolvePath } from 'node:path';
import * as v from 'valibot';
import { LxkitError } from '../errors.js';
import { isPlugin } from '../plugin/brand.js';
import { installedBuiltins } from '../plugin/builtins.js';
import type { SystemConfigItem } from './items.js';
import { SEARCH_PLACES, defaultContainerConfig, defaultLxcpath, findToolkitConfigFile, searchDirs } from './locate.js';
import type { PluginSpec } from '../plugin/loader.js';

export interface ToolkitConfig {
  /** The file the configuration came from; undefined when built-in defaults are used. */
  readonly file: string | undefined;
  readonly plugins: readonly PluginSpec[];
  readonly lxcpath: string;
  readonly defaultConfig: string;
  readonly lvm: { readonly vg: string; readonly thinPool: string };
  readonly zfs: { readonly root: string };
  readonly cgroup: { readonly pattern?: string; readonly use?: string };
}

const PluginEntry = v.union([
  v.pipe(v.string(), v.minLength(1)),
  v.strictObject({ use: v.pipe(v.string(), v.minLength(1)), options: v.optional(v.unknown()) }),
  v.custom<object>(isPlugin, 'a plugin object'),
]);

const Schema = v.strictObject({
  plugins: v.optional(v.array(PluginEntry)),
  lxcpath: v.optional(v.pipe(v.string(), v.minLength(1))),
  defaultConfig: v.optional(v.pipe(v.string(), v.minLength(1))),
  lvm: v.optional(v.strictObject({ vg: v.optional(v.string()), thinPool: v.optional(v.string()) })),
  zfs: v.optional(v.strictObject({ root: v.optional(v.string()) })),
  cgroup: v.optional(v.strictObject({ pattern: v.optional(v.string()), use: v.optional(v.string()) })),
});

type RawToolkitConfig = v.InferOutput<typeof Schema>;

function invalidConfig(file: string, message: string, cause?: unknown): LxkitError {
  return new LxkitError('LXKIT_TOOLKIT_CONFIG_INVALID', `${file}: ${message}`, { file, cause });
}

/** JSON with a message that names line and column (Node's names only an offset). */
function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    if (!m) throw invalidConfig(file, `invalid JSON: ${(err as Error).message}`, err);
    const before = text.slice(0, Number(m[1]));
    const line = before.split('\n').length;
    const col = before.length - before.lastIndexOf('\n');
    throw invalidConfig(file, `invalid JSON at line ${line}, column ${col}: ${(err as Error).message}`, err);
  }
}

/**
 * cosmiconfig reads a "meta config" from the working directory when an
 * explorer is made (package.json's "cosmiconfig" key, .config/config.*), and
 * runs it if it is JavaScript. For a tool run as root that would execute
 * whatever file sits in the directory the admin happens to be in, and let it
 * redirect the search. The explorer is therefore made with `/` as the working
 * directory; the meta config is read only then, synchronously.
 */
async function explorer() {
  // Loaded only when a file is to be read (bundled, so this stays a lazy require).
  const { cosmiconfig } = await import('cosmiconfig');
  const cwd = process.cwd();
  process.chdir('/');
  try {
    return cosmiconfig('lxkit', {
      searchPlaces: SEARCH_PLACES,
      searchStrategy: 'none',
      cache: false,
      loaders: { '.json': (file: string, content: string) => parseJson(file, content) },
    });
  } finally {
    process.chdir(cwd);
  }
}

function expandPlugins(raw: RawToolkitConfig['plugins'], file: string | undefined): PluginSpec[] {
  if (raw === undefined) return installedBuiltins();
  const out: PluginSpec[] = [];
  for (const entry of raw) {
    if (entry === '...') out.push(...installedBuiltins());
    else if (typeof entry === 'string') out.push({ use: entry, ...(file ? { from: file } : {}) });
    else if (isPlugin(entry)) out.push({ use: entry, ...(file ? { from: file } : {}) });
    else {
      const e = entry as { use: string; options?: unknown };
      out.push({ use: e.use, ...(e.options !== undefined ? { options: e.options } : {}), ...(file ? { from: file } : {}) });
    }
  }
  return out;
}

export interface ToolkitConfigOptions {
  /** Explicit configuration file (`--rcfile`). */
  rcfile?: string;
  /** `-P`: overrides the configured lxcpath. */
  lxcpath?: string;
}

export async function loadToolkitConfig(opts: ToolkitConfigOptions = {}): Promise<ToolkitConfig> {
  let found: { config: unknown; filepath: string } | null = null;
  try {
    // No file anywhere: the defaults, without making an explorer (cosmiconfig reads its meta config then).
    const ex = opts.rcfile || findToolkitConfigFile() ? await explorer() : undefined;
    if (opts.rcfile) found = await ex!.load(resolvePath(opts.rcfile));
    else if (ex) {
      for (const dir of searchDirs()) {
        found = await ex.search(dir);
        if (found) break;
      }
    }
  } catch (err) {
    if (err instanceof LxkitError) throw err;
    const file = opts.rcfile ?? (err as { filepath?: string }).filepath ?? 'toolkit config';
    const e = err as NodeJS.ErrnoException;
    // cosmiconfig prefixes parse errors with "YAML Error in FILE:\n"; the file is named once already.
    const message = e.code === 'ENOENT' ? 'no such file' : e.message.replace(/^(YAML|JSON) Error in [^\n]*:\n/, 'invalid $1: ');
    throw invalidConfig(file, message.replace(/\s*\n\s*/g, ' '), err);
  }
  const file = found?.filepath;
  const raw = found?.config ?? {};
  const parsed = v.safeParse(Schema, raw);
  if (!parsed.success) {
    const lines = parsed.issues.map((i) => {
      const path = v.getDotPath(i);
      return `${path ?? '(top level)'}: ${i.message}`;
    });
    throw invalidConfig(file ?? '<defaults>', lines.join('; '));
  }
  const c = parsed.output;
  let plugins: PluginSpec[] | undefined;
  return Object.freeze({
    file,
    // Resolved on first use: most commands that read the toolkit config never load plugins.
    get plugins() {
      return (plugins ??= expandPlugins(c.plugins, file));
    },
    lxcpath: opts.lxcpath ?? c.lxcpath ?? defaultLxcpath(),
    defaultConfig: c.defaultConfig ?? defaultContainerConfig(),
    lvm: { vg: c.lvm?.vg ?? 'lxc', thinPool: c.lvm?.thinPool ?? 'lxc' },
    zfs: { root: c.zfs?.root ?? 'lxc' },
    cgroup: {
      ...(c.cgroup?.pattern !== undefined ? { pattern: c.cgroup.pattern } : {}),
      ...(c.cgroup?.use !== undefined ? { use: c.cgroup.use } : {}),
    },
  });
}

/** An item's value; undefined when unset (lxc-config prints "… is not set."). */
export function systemConfigItem(c: ToolkitConfig, item: SystemConfigItem): string | undefined {
  switch (item) {
    case 'lxc.default_config':
      return c.defaultConfig;
    case 'lxc.lxcpath':
      return c.lxcpath;
    case 'lxc.bdev.lvm.vg':
      return c.lvm.vg;
    case 'lxc.bdev.lvm.thin_pool':
      return c.lvm.thinPool;
    case 'lxc.bdev.zfs.root':
      return c.zfs.root;
    case 'lxc.cgroup.use':
      return c.cgroup.use;
    case 'lxc.cgroup.pattern':
      return c.cgroup.pattern;
    case 'lxkit.rcfile':
      return c.file;
    case 'lxkit.plugins':
      return c.plugins.map((p) => (typeof p.use === 'string' ? p.use : p.use.name)).join(' ') || undefined;
  }
}
