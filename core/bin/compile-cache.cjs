/**
 * V8 code cache for lxkit's own bundles, made after a command has run.
 *
 * Most of a CLI command's time above a bare `node -e 0` is V8 compiling
 * lxkit's functions the first time they are called. A code cache taken when
 * the command ends (script.createCachedData() after execution) holds those
 * functions too, and the next run of the same command skips their compile:
 * about 20 ms of `lxkit execute`. v8-compile-cache and Node 22's
 * module.enableCompileCache() take theirs right after the top level is
 * compiled, before any function has run, which gains nothing measurable here.
 *
 * Caches live in $XDG_CACHE_HOME/lxkit/v8-<node>-<arch>/<command>/ (one set
 * per command, as each runs different code), in a directory that must belong
 * to the user and be writable by nobody else: a cache is code. Files are
 * keyed by path, size and mtime of the bundle; a cache V8 rejects is
 * replaced. Bundles that contain import() load as usual: on Node 20, code
 * run from a code cache cannot import() ("A dynamic import callback was not
 * specified"). LXKIT_NO_COMPILE_CACHE=1 turns all of this off.
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

/** A directory for this user's caches, or undefined when none can be trusted. */
function cacheDir(command) {
  const home = process.env.HOME || require('node:os').homedir();
  const base = process.env.XDG_CACHE_HOME || path.join(home, '.cache');
  const dir = path.join(base, 'lxkit', `v8-${process.version}-${process.arch}`, command);
  try {
    let st = fs.lstatSync(dir, { throwIfNoEntry: false });
    if (!st) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      st = fs.lstatSync(dir);
    }
    const uid = process.geteuid ? process.geteuid() : st.uid;
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/**
 * Loads the `.cjs` files under `root` through the cache. Other modules load
 * as usual.
 */
function install(root, command) {
  if (process.env.LXKIT_NO_COMPILE_CACHE === '1') return;
  const dir = cacheDir(/^[a-z][a-z-]*$/.test(command ?? '') ? command : 'default');
  if (!dir) return;
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  const plain = Module._extensions['.cjs'] ?? Module._extensions['.js'];
  const fresh = [];

  Module._extensions['.cjs'] = function loadCached(module, filename) {
    if (!filename.startsWith(prefix) || filename.slice(prefix.length).includes('node_modules')) return plain(module, filename);
    const source = fs.readFileSync(filename, 'utf8');
    // On Node 20, code run from a code cache cannot import() (the core keeps its import() calls in esm.cjs).
    if (source.includes('import(')) return plain(module, filename);
    const st = fs.statSync(filename);
    const id = hash(filename);
    const file = path.join(dir, `${id}-${hash(`${st.size}:${st.mtimeMs}:${st.ino}`)}.v8`);
    let cachedData;
    try {
      cachedData = fs.readFileSync(file);
    } catch {
      // Not made yet.
    }
    const wrapper = `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;
    const script = new vm.Script(wrapper, { filename, cachedData });
    if (!cachedData || script.cachedDataRejected) fresh.push({ script, file, id });
    const fn = script.runInThisContext({ displayErrors: true });
    fn.call(module.exports, module.exports, Module.createRequire(filename), module, filename, path.dirname(filename));
  };

  process.once('exit', () => {
    for (const { script, file, id } of fresh) {
      try {
        // Older caches of the same bundle are dead weight.
        for (const old of fs.readdirSync(dir)) if (old.startsWith(`${id}-`) && old !== path.basename(file)) fs.rmSync(path.join(dir, old), { force: true });
        const tmp = `${file}.${process.pid}`;
        fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(tmp, file);
      } catch {
        // A cache is an optimisation: never a reason to fail a command.
      }
    }
  });
}

module.exports = { install };
