#!/usr/bin/env node
/**
 * Builds every workspace:
 *  1. tsc -b: type-checks everything and emits the declaration files;
 *  2. esbuild: bundles each package's JavaScript (the core's CLI and library
 *     share chunks, so a plugin importing @lxkit/core gets the same module
 *     instances as the CLI that loaded it);
 *  3. node-gyp: compiles the native helpers; the static ones are linked
 *     again against musl where musl-gcc is installed (static-helpers.mjs).
 * Incremental: tsc and make only redo what changed.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildStaticHelpers } from './static-helpers.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const quiet = process.argv.includes('--quiet');
const say = (msg) => quiet || console.log(`build: ${msg}`);

function run(cmd, args, cwd = root) {
  const r = spawnSync(cmd, args, { cwd, stdio: quiet ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8' });
  if (r.status !== 0) {
    if (quiet && r.stdout) process.stdout.write(r.stdout);
    console.error(`build: ${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

say('type-checking (tsc -b)');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
run(process.execPath, [tsc, '-b', '--pretty']);
run(process.execPath, [tsc, '-p', 'test/tsconfig.json', '--pretty']);
run(process.execPath, [tsc, '-p', 'bench/tsconfig.json', '--pretty']);

// Every ESM output file gets a `require` so that bundled CommonJS dependencies can load Node built-ins.
const banner = {
  js: "import { createRequire as __lxkitCreateRequire } from 'node:module';\nconst require = __lxkitCreateRequire(import.meta.url);",
};
const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  banner,
  legalComments: 'none',
  logLevel: 'warning',
  sourcemap: 'linked',
};

/**
 * Some Node built-ins cost milliseconds to load (fs/promises ~1.5 ms, zlib
 * ~2.5 ms, net with its streams ~4 ms, crypto, child_process) and most commands never use them. This
 * plugin makes every reference to them in the bundle load the real module on
 * first use:
 *  - `require()` from bundled CommonJS dependencies gets a lazy Proxy;
 *  - `import { f } from 'node:zlib'` in lxkit's own sources gets a facade
 *    whose exports call through to the module (functions and classes alike).
 */
const LAZY = ['child_process', 'crypto', 'fs/promises', 'net', 'zlib'];
const LAZY_FILTER = new RegExp(`^(node:)?(${LAZY.map((m) => m.replace('/', '\\/')).join('|')})$`);
async function facade(mod) {
  const real = await import(`node:${mod}`);
  const names = Object.keys(real).filter((k) => k !== 'default' && /^[A-Za-z_$][\w$]*$/.test(k));
  const lines = [`let m; const load = () => (m ??= require(${JSON.stringify('node:' + mod)}));`];
  for (const k of names) {
    if (typeof real[k] === 'function') {
      lines.push(
        `export function ${k}(...a) { return new.target ? Reflect.construct(load().${k}, a, new.target) : load().${k}(...a); }`,
      );
    }
    // Plain values (zlib.constants...) are left out: exporting them would load
    // the module at once. Importing one is then a build error, not a slow start.
  }
  lines.push('export default new Proxy({}, { get: (_, k) => load()[k] });');
  return lines.join('\n');
}
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: LAZY_FILTER }, (args) => {
      if (args.namespace.startsWith('lazy-')) return undefined;
      const path = args.path.replace(/^node:/, '');
      return { path, namespace: args.kind === 'require-call' ? 'lazy-require' : 'lazy-import' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-require' }, (args) => ({
      loader: 'js',
      contents: `let m;
const load = () => (m ??= require(${JSON.stringify('node:' + args.path)}));
module.exports = new Proxy({}, {
  get: (_, k) => (k === '__esModule' ? undefined : load()[k]),
  has: (_, k) => k in load(),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_, k) => Object.getOwnPropertyDescriptor(load(), k),
});`,
    }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-import' }, async (args) => ({ loader: 'js', contents: await facade(args.path) }));
  },
};

say('bundling @lxkit/core');
/*
 * The core is CommonJS at run time (its sources are ESM TypeScript), in
 * parts that load only when needed:
 *   base.cjs     errors, logging, value parsers, version
 *   esm.cjs      the core's import() calls (see src/esm-imports.ts)
 *   execa.cjs    execa with its dependencies, CommonJS (see src/execa.ts)
 *   toolkit.cjs  the toolkit config (cosmiconfig)
 *   client.cjs   talking to running containers' monitors (info, stop, attach…)
 *   index.cjs    the library: hook bus, config model, plugins, checkconfig
 *   cli.cjs      argument parsing and the commands
 * Each part requires the earlier ones instead of bundling them, so every
 * module exists once per process: the CLI and ESM plugins (through Node's
 * CommonJS interop) share the same instances. A command that loads no plugin
 * never starts Node's ESM loader (~7 ms), and `lxkit help` loads cli.cjs alone.
 */
const SRC = join(root, 'core/src');
const PART_MODULES = {
  base: ['errors.ts', 'log/logger.ts', 'config/values.ts', 'version.ts', 'toolkit/items.ts', 'toolkit/locate.ts', 'native-package.ts', 'parts/base.ts'],
  toolkit: ['toolkit/config.ts', 'plugin/brand.ts', 'plugin/builtins.ts', 'parts/toolkit.ts'],
  esm: ['esm-imports.ts'],
  client: [
    'command/client.ts',
    'cgroup/files.ts',
    'command/watch.ts',
    'command/helper-session.ts',
    'container/paths.ts',
    'container/running.ts',
    'attach/attach.ts',
    'console/console.ts',
    'start/protocol.ts',
    'start/system-error.ts',
    'start/namespaces.ts',
    'parts/client.ts',
  ],
};
function partOf(file) {
  const rel = relative(SRC, file);
  for (const [part, mods] of Object.entries(PART_MODULES)) if (mods.includes(rel)) return part;
  return rel.startsWith('cli/') ? 'cli' : 'index';
}
/** Resolves imports of modules that belong to one of `parts` to that part's file. */
const partsExternal = (parts) => ({
  name: 'parts-external',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (!args.importer.startsWith(SRC)) return undefined;
      const target = resolvePath(dirname(args.importer), args.path).replace(/\.js$/, '.ts');
      const part = partOf(target);
      return parts.includes(part) ? { path: `./${part}.cjs`, external: true } : undefined;
    });
  },
});
for (const old of ['core/dist/chunks', 'core/dist/commands', 'core/dist/index.js', 'core/dist/cli.js']) {
  rmSync(join(root, old), { recursive: true, force: true });
}
const cjs = {
  ...common,
  format: 'cjs',
  banner: { js: "const __lxkitUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__lxkitUrl' },
  outExtension: { '.js': '.cjs' },
  outdir: 'core/dist',
  absWorkingDir: root,
  // Loaded lazily or from the user's own install: kept out of the bundle.
  external: ['@lxkit/*', 'execa', 'import-meta-resolve', 'js-yaml', 'typescript', 'cli-table3', 'picocolors'],
  alias: { 'parse-json': './core/shims/parse-json.cjs' },
  // Less text to parse at every start; the source map keeps stack traces readable.
  minifyWhitespace: true,
  minifySyntax: true,
};
/**
 * Builds a part and checks that its entry re-exports every value its modules
 * export: a later part requires them from it, and one left out would be
 * undefined there at run time, not a build error.
 */
async function buildPart(part, entry, plugins) {
  await build({ ...cjs, entryPoints: { [part]: entry }, plugins });
  const exported = new Set(Object.keys(createRequire(import.meta.url)(join(root, 'core/dist', `${part}.cjs`))));
  const missing = [];
  for (const mod of PART_MODULES[part]) {
    const text = readFileSync(join(SRC, mod), 'utf8');
    for (const m of text.matchAll(/^export (?:async )?(?:function\*?|const|let|class) ([A-Za-z_$][\w$]*)/gm)) {
      if (!exported.has(m[1])) missing.push(`${mod}: ${m[1]}`);
    }
  }
  if (missing.length) throw new Error(`${entry} does not re-export ${missing.join(', ')}`);
}
/**
 * cosmiconfig's loaders import() JavaScript and TypeScript config files. A
 * part containing import() is left out of the CLI's V8 code cache (see
 * core/bin/lxkit.cjs), so those calls go through the esm part instead, and
 * the toolkit part (~47 KB, ~2 ms to compile at every start) is cached too.
 */
const toolkitImports = {
  name: 'toolkit-imports',
  setup(b) {
    b.onResolve({ filter: /^\.\/esm\.cjs$/ }, (args) => (args.importer.includes('node_modules') ? { path: args.path, external: true } : undefined));
    b.onLoad({ filter: /[\\/]cosmiconfig[\\/]dist[\\/]loaders\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const out = text.replace(/\bimport\(/g, 'require("./esm.cjs").importUrl(');
      if (out === text) throw new Error(`${args.path}: no import() left to route through esm.cjs (has cosmiconfig changed?)`);
      return { contents: out, loader: 'js' };
    });
  },
};
// execa and its dependencies in one CommonJS file, which importExeca() (esm.cjs) requires: see src/execa.ts.
await build({ ...cjs, entryPoints: { execa: 'core/src/execa.ts' }, plugins: [lazyBuiltins], external: cjs.external.filter((e) => e !== 'execa') });
await build({ ...cjs, entryPoints: { esm: 'core/src/esm-imports.ts' }, plugins: [], external: [...cjs.external, './execa.cjs'] });
// Loaded by core/bin/lxkit.cjs only when the C front asks for a launch plan (docs/launch-plans.md).
await build({ ...cjs, entryPoints: { 'plan-recorder': 'core/src/launch-plan/recorder.ts' }, plugins: [] });
await buildPart('base', 'core/src/parts/base.ts', [lazyBuiltins]);
await buildPart('toolkit', 'core/src/parts/toolkit.ts', [lazyBuiltins, partsExternal(['base']), toolkitImports]);
await buildPart('client', 'core/src/parts/client.ts', [lazyBuiltins, partsExternal(['base'])]);
await build({ ...cjs, entryPoints: { index: 'core/src/index.ts' }, plugins: [lazyBuiltins, partsExternal(['base', 'esm', 'toolkit', 'client'])] });
await build({
  ...cjs,
  entryPoints: { cli: 'core/src/cli/main.ts' },
  plugins: [lazyBuiltins, partsExternal(['base', 'esm', 'toolkit', 'client', 'index'])],
  // import() of the core's parts becomes a lazy require(), so the ESM loader never starts.
  supported: { 'dynamic-import': false },
});

say('bundling @lxkit/native and plugins');
// The native package is CommonJS like the core, so that the core loads it with require().
await build({
  ...cjs,
  entryPoints: { index: 'native/src/index.ts' },
  outdir: 'native/dist',
  plugins: [],
  external: [],
  alias: {},
});
/**
 * Packages a plugin's bundle keeps outside: all but valibot, whose few
 * functions a plugin uses are bundled (tree-shaken) rather than loading
 * valibot's whole CommonJS build (~200 KB, ~6 ms per CLI start); the core
 * is required once per bundle.
 */
/** The names the core's library exports (its bundle is built by now). */
let coreNames;
const coreExports = () =>
  (coreNames ??= Object.keys(createRequire(import.meta.url)(join(root, 'core/dist/index.cjs'))).filter((n) => n !== 'default' && /^[A-Za-z_$][\w$]*$/.test(n)));
const bundleValibot = {
  name: 'bundle-valibot',
  setup(b) {
    // One reference to the core per plugin instead of one require per source file: Node resolves
    // every require of a package name afresh from a bundle (~0.1–2 ms each in a CLI start).
    b.onResolve({ filter: /^@lxkit\/core$/ }, (args) =>
      args.namespace === 'lxkit-core' ? { path: args.path, external: true } : { path: '@lxkit/core', namespace: 'lxkit-core' },
    );
    // The core that loads the plugin publishes itself (core/src/index.ts); resolved only without one.
    // Named exports, not a CommonJS module: importing that would copy all of the core's ~125
    // exports into a new object in every source file of a plugin (~2 ms of a CLI start).
    b.onLoad({ filter: /.*/, namespace: 'lxkit-core' }, () => ({
      contents:
        "const core = globalThis[Symbol.for('@lxkit/core')] ?? require('@lxkit/core');\n" +
        `export const { ${coreExports().join(', ')} } = core;\n`,
      loader: 'js',
    }));
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path === 'valibot' || args.path.startsWith('valibot/') ? undefined : { path: args.path, external: true }));
  },
};
// Built-in plugins are CommonJS too: the core require()s them, so loading them starts no ESM loader.
const pkgs = readdirSync(join(root, 'plugins')).map((p) => `plugins/${p}`);
for (const pkg of pkgs) {
  if (!existsSync(join(root, pkg, 'src/index.ts'))) continue;
  rmSync(join(root, pkg, 'dist/index.js'), { force: true });
  await build({
    ...cjs,
    entryPoints: { index: join(pkg, 'src/index.ts') },
    outdir: join(pkg, 'dist'),
    plugins: [lazyBuiltins, bundleValibot],
    external: [],
    alias: {},
  });
}

say('compiling native helpers (node-gyp)');
const gyp = join(root, 'node_modules/node-gyp/bin/node-gyp.js');
// Build against the running Node's own headers when they are installed next to
// it (Debian, NodeSource), so that no header download is needed.
const prefix = dirname(dirname(process.execPath));
const nodedir =
  process.env.npm_config_nodedir ?? (existsSync(join(prefix, 'include/node/common.gypi')) ? prefix : undefined);
const gypArgs = nodedir ? [`--nodedir=${nodedir}`] : [];
if (!existsSync(join(root, 'native/build/config.gypi'))) run(process.execPath, [gyp, 'configure', ...gypArgs], join(root, 'native'));
run(process.execPath, [gyp, 'build', '--silent'], join(root, 'native'));
say(buildStaticHelpers(join(root, 'native')));
// lxkit-user-nic gives unprivileged users veths within /etc/lxc/lxc-usernet's quotas, as LXC's setuid lxc-user-nic does.
// The linker writes a new file each time, without the bit; only root can set it.
const userNic = join(root, 'native/build/Release/lxkit-user-nic');
if (process.getuid?.() === 0) {
  chownSync(userNic, 0, 0);
  chmodSync(userNic, 0o4755);
} else {
  say(`${relative(root, userNic)} is not setuid root (the build is not root's): unprivileged containers get no veth until root runs chown root and chmod u+s on it`);
}

// The seccomp compiler is a target of its own (libseccomp): without the library's headers the
// seccomp plugin cannot compile policies, and says so when a start needs it.
const seccompDir = join(root, 'plugins/seccomp/native');
if (existsSync('/usr/include/seccomp.h')) {
  say('compiling the seccomp compiler (node-gyp, libseccomp)');
  if (!existsSync(join(seccompDir, 'build/config.gypi'))) run(process.execPath, [gyp, 'configure', ...gypArgs], seccompDir);
  run(process.execPath, [gyp, 'build', '--silent'], seccompDir);
} else {
  say('skipping the seccomp compiler: libseccomp headers are missing (apt-get install libseccomp-dev)');
}
// The templates plugin's own LXC_TEMPLATE_CONFIG and LXC_HOOK_DIR (used where LXC's are not installed):
// the snippets name each other by absolute path, as LXC's do, so they are written with this tree's.
const share = join(root, 'plugins/templates/share');
const shared = join(root, 'plugins/templates/dist/share');
const dirs = { '@CONFIG_DIR@': join(shared, 'config'), '@HOOK_DIR@': join(shared, 'hooks') };
for (const sub of ['config', 'hooks']) {
  mkdirSync(join(shared, sub), { recursive: true });
  for (const name of readdirSync(join(share, sub))) {
    const from = join(share, sub, name);
    const text = Object.entries(dirs).reduce((t, [word, dir]) => t.replaceAll(word, dir), readFileSync(from, 'utf8'));
    writeFileSync(join(shared, sub, name), text, { mode: statSync(from).mode & 0o777 });
    chmodSync(join(shared, sub, name), statSync(from).mode & 0o777);
  }
}
// Where a site adds its own snippets (included by common.conf and userns.conf; none is shipped).
for (const d of ['common.conf.d', 'userns.conf.d']) mkdirSync(join(shared, 'config', d), { recursive: true });
say('done');
