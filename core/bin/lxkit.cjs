#!/usr/bin/env node
/**
 * The `lxkit` command (and `lxc-*` through core/aliases/), and the loader of
 * lxkit's bundles with their V8 code cache.
 *
 * CommonJS on purpose: `lxkit help` then never starts Node's ESM loader. The
 * loader lives in this file rather than beside it because a require() of a
 * second file through Node's resolver costs more than the loader itself.
 *
 * Code cache: most of a command's time above a bare `node -e 0` is V8
 * compiling lxkit's functions the first time they are called. A code cache
 * taken when the command ends (script.createCachedData() after execution)
 * holds those functions too, and the next run of the same command skips their
 * compile: about 20 ms of `lxkit execute`. v8-compile-cache and Node 22's
 * module.enableCompileCache() take theirs right after the top level is
 * compiled, before any function has run, which gains nothing measurable here.
 * Caches live in $XDG_CACHE_HOME/lxkit/v8-<node>-<arch>/<command>/ (one set
 * per command, as each runs different code), in a directory that must belong
 * to the user and be writable by nobody else: a cache is code. Files are
 * keyed by path, size and mtime of the bundle; a cache V8 rejects is
 * replaced. Caches are written only when a command succeeds, and a write
 * removes the same bundle's older caches and any not written for 30 days
 * (left by checkouts or installs that are gone), so the directory stays the
 * size of what is in use. Bundles that contain import() load as usual: on Node 20, code run
 * from a code cache cannot import() ("A dynamic import callback was not
 * specified"). LXKIT_NO_COMPILE_CACHE=1 turns the cache off.
 *
 * Loading: a bundle's `require('./base.cjs')` goes straight to the file, with
 * no lookups of paths, real paths or package scopes (~1 ms of every command).
 * Modules are registered in require.cache under their real path, so a later
 * require() of the same file through Node (a plugin's `require('@lxkit/core')`)
 * gets the same instance; Node's own loads of lxkit's bundles use the cache too.
 */
'use strict';
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const vm = require('node:vm');

/** FNV-1a, enough to name files (crypto costs more to load than this saves). */
function hash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * This user's cache directory for `command`: `{ dir, trusted }`, where
 * trusted says whether it exists and may be used (a cache is code: the
 * directory must belong to the user and be writable by nobody else).
 */
function cacheDir(command) {
  const home = process.env.HOME || require('node:os').homedir();
  const base = process.env.XDG_CACHE_HOME || path.join(home, '.cache');
  const dir = path.join(base, 'lxkit', `v8-${process.version}-${process.arch}`, command);
  return { dir, trusted: trusted(dir) };
}

function trusted(dir) {
  try {
    const st = fs.lstatSync(dir, { throwIfNoEntry: false });
    if (!st) return false;
    const uid = process.geteuid ? process.geteuid() : st.uid;
    return st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** Caches not written for this long (by mtime) belong to installs that are gone (another checkout, an older version). */
const STALE_MS = 30 * 24 * 3600 * 1000;

/**
 * Sets up loading of the `.cjs` bundles under `root` (lxkit's packages, side
 * by side) and returns `load(filename)` for the first one.
 */
function install(root, command) {
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  const ours = (filename) => filename.startsWith(prefix) && filename.endsWith('.cjs') && !filename.slice(prefix.length).includes('node_modules');
  const cache = process.env.LXKIT_NO_COMPILE_CACHE === '1' ? undefined : cacheDir(/^[a-z][a-z-]*$/.test(command ?? '') ? command : 'default');
  const dir = cache?.dir;
  const fresh = [];
  const used = new Set();

  /** Compiles and runs a bundle, from its cache when there is one; `require` is what its code gets. */
  function compile(module, filename, require) {
    const source = fs.readFileSync(filename, 'utf8');
    // On Node 20, code compiled by vm.Script cannot import() (the core keeps its import() calls in esm.cjs).
    if (source.includes('import(')) return module._compile(source, filename);
    let file, id, cachedData;
    if (dir) {
      const st = fs.statSync(filename);
      id = hash(filename);
      file = path.join(dir, `${id}-${hash(`${st.size}:${st.mtimeMs}:${st.ino}`)}.v8`);
      used.add(path.basename(file));
      if (cache.trusted) {
        try {
          cachedData = fs.readFileSync(file);
        } catch {
          // Not made yet.
        }
      }
    }
    const wrapper = `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;
    const script = new vm.Script(wrapper, { filename, cachedData });
    if (dir && (!cachedData || script.cachedDataRejected)) fresh.push({ script, file, id });
    const fn = script.runInThisContext({ displayErrors: true });
    fn.call(module.exports, module.exports, require, module, filename, path.dirname(filename));
  }

  /** The `require` of a bundle that load() loaded: lxkit's bundles directly, anything else through Node. */
  function requireFor(module) {
    const base = path.dirname(module.filename) + path.sep;
    const req = (id) => {
      if (id.startsWith('./') && id.endsWith('.cjs')) return load(base + id.slice(2), module);
      if (id.startsWith('/') && ours(id)) return load(id, module);
      return module.require(id);
    };
    let node;
    Object.defineProperties(req, {
      resolve: { get: () => (node ??= Module.createRequire(module.filename)).resolve },
      cache: { value: Module._cache },
      main: { get: () => process.mainModule },
      extensions: { value: Module._extensions },
    });
    return req;
  }

  function load(filename, parent) {
    const cached = Module._cache[filename];
    if (cached) return cached.exports;
    const module = new Module(filename, parent);
    module.filename = filename;
    module.paths = Module._nodeModulePaths(path.dirname(filename));
    Module._cache[filename] = module;
    try {
      compile(module, filename, requireFor(module));
    } catch (err) {
      delete Module._cache[filename];
      throw err;
    }
    module.loaded = true;
    return module.exports;
  }

  // Bundles Node loads itself (plugins imported by specifier, require('@lxkit/core')).
  const plain = Module._extensions['.cjs'] ?? Module._extensions['.js'];
  Module._extensions['.cjs'] = function loadCached(module, filename) {
    if (!ours(filename)) return plain(module, filename);
    compile(module, filename, Module.createRequire(filename));
  };

  if (dir) {
    // Written only after a command that succeeded: a failed one (an unknown command, bad options)
    // ran little of lxkit's code, and would leave a directory for every word typed.
    process.once('exit', (code) => {
      if (fresh.length === 0 || code !== 0) return;
      try {
        if (!cache.trusted) {
          fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
          if (!trusted(dir)) return;
        }
        const now = Date.now();
        for (const old of fs.readdirSync(dir)) {
          if (used.has(old)) continue;
          const stale = path.join(dir, old);
          // Older caches of the same bundle are dead weight; so are long-unwritten ones of bundles elsewhere.
          const mine = fresh.some(({ id }) => old.startsWith(`${id}-`));
          if (mine || now - fs.statSync(stale).mtimeMs > STALE_MS) fs.rmSync(stale, { force: true });
        }
        for (const { script, file } of fresh) {
          const tmp = `${file}.${process.pid}`;
          fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
          fs.renameSync(tmp, file);
        }
      } catch {
        // A cache is an optimisation: never a reason to fail a command.
      }
    });
  }
  return (filename) => load(filename, module);
}

// The C front (native/src/front) had no launch plan for this command: record one while it runs
// (docs/launch-plans.md). Before anything else, so that every file lxkit reads is seen.
const planFile = process.env.LXKIT_PLAN_RECORD;
if (planFile) {
  delete process.env.LXKIT_PLAN_RECORD;
  const home = process.env.HOME || require('node:os').homedir();
  const caches = path.join(process.env.XDG_CACHE_HOME || path.join(home, '.cache'), 'lxkit') + path.sep;
  require(path.join(__dirname, '..', 'dist', 'plan-recorder.cjs')).recordPlan(planFile, [caches]);
}

// lxkit's packages sit side by side (core, native, plugins): the workspace, or node_modules/@lxkit.
const core = fs.realpathSync(path.join(__dirname, '..'));
const invoked = path.basename(process.argv[1] ?? '');
const command = invoked.startsWith('lxc-') ? invoked : process.argv[2];
install(path.dirname(core), command)(path.join(core, 'dist', 'cli.cjs'));
