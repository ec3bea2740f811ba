/**
 * The static native helpers (lxkit-monitor, lxkit-attach, lxkit-console)
 * linked against musl when musl-gcc is installed, replacing node-gyp's
 * glibc builds in native/build/Release.
 *
 * Why: a helper is exec'd on the path of every start and attach. A static
 * glibc binary spends ~0.35 ms before main() on this machine, most of it in
 * glibc's CPU-feature and cache probing (CPUID, which traps to the
 * hypervisor in a VM); a static musl binary starts in ~0.15 ms, and its
 * resident size is a third of the glibc one's. node-gyp has one compiler for
 * all targets (the addon needs glibc's), hence this step. Without musl-gcc
 * node-gyp's glibc builds stay: they behave the same.
 *
 * The targets, their sources and flags are read from native/binding.gyp, so
 * that there is one list of them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** binding.gyp is JSON with `#` comments. */
function readGyp(file) {
  const text = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.replace(/^\s*#.*$/, ''))
    .join('\n');
  return JSON.parse(text);
}

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * musl's include path has no kernel headers; the system's are libc-neutral
 * and are searched after musl's own (-idirafter).
 */
function kernelHeaders(buildDir) {
  const dir = join(buildDir, 'musl-kernel-headers');
  const multiarch = spawnSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).stdout?.trim() || 'x86_64-linux-gnu';
  const links = { linux: '/usr/include/linux', asm: `/usr/include/${multiarch}/asm`, 'asm-generic': '/usr/include/asm-generic' };
  mkdirSync(dir, { recursive: true });
  for (const [name, target] of Object.entries(links)) {
    if (!existsSync(join(dir, name))) symlinkSync(target, join(dir, name));
  }
  return dir;
}

function hasMusl() {
  return spawnSync('musl-gcc', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Builds the static helpers of `nativeDir` with musl-gcc. Returns what it
 * did, for the build's log; throws on a compiler error.
 */
export function buildStaticHelpers(nativeDir) {
  if (!hasMusl()) return 'musl-gcc is missing: the static helpers stay linked against glibc (apt-get install musl-tools)';
  const gyp = readGyp(join(nativeDir, 'binding.gyp'));
  const release = join(nativeDir, 'build/Release');
  const cflags = (gyp.target_defaults?.cflags ?? []).filter((f) => !f.startsWith('-D_FORTIFY_SOURCE'));
  const ldflags = gyp.target_defaults?.ldflags ?? [];
  const headers = kernelHeaders(join(nativeDir, 'build'));
  const sourcesChanged = newest(join(nativeDir, 'src'));
  const built = [];
  for (const t of gyp.targets) {
    if (t.type !== 'executable' || !(t.ldflags ?? []).includes('-static')) continue;
    const out = join(release, t.target_name);
    const stamp = `${out}.musl`;
    if (existsSync(stamp) && existsSync(out) && statSync(stamp).mtimeMs >= sourcesChanged && statSync(out).mtimeMs <= statSync(stamp).mtimeMs) continue;
    const tmp = `${out}.musl-tmp`;
    const args = [...cflags, '-idirafter', headers, ...t.sources.map((s) => join(nativeDir, s)), ...ldflags, ...t.ldflags, '-o', tmp];
    const r = spawnSync('musl-gcc', args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`musl-gcc failed for ${t.target_name} (exit ${r.status ?? r.signal})`);
    renameSync(tmp, out);
    // The stamp says which build is in place: node-gyp relinks the glibc one when a source changes.
    writeFileSync(stamp, '');
    built.push(t.target_name);
  }
  return built.length ? `linked against musl: ${built.join(', ')}` : 'static helpers up to date (musl)';
}
