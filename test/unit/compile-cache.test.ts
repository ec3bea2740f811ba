/** The CLI's V8 code cache (core/bin/lxkit.cjs): made after a run, used by the next, never trusted blindly. */
import { chmod, mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { LXKIT_BIN, ROOT, lxkit, withTmpDir } from '../lib/harness.js';

const cc = suite('compile cache');

/** A command's cache directory under `base` (the one Node version's directory there). */
async function commandDirOf(base: string, command: string): Promise<string> {
  const [versionDir] = await readdir(join(base, 'lxkit'));
  return join(base, 'lxkit', versionDir!, command);
}

async function cacheFiles(base: string, command: string): Promise<string[]> {
  return (await readdir(await commandDirOf(base, command)).catch(() => [] as string[])).filter((f) => f.endsWith('.v8')).sort();
}

cc('a command leaves a cache that the next run uses; a damaged cache is replaced; output never changes', async () => {
  await withTmpDir(async (dir) => {
    const env = { XDG_CACHE_HOME: dir };
    const first = await lxkit(['config', '-l'], { env });
    assert.is(first.exitCode, 0, first.stderr);
    const files = await cacheFiles(dir, 'config');
    assert.ok(files.length >= 2, `one cache per bundle the command loaded (${files.join(' ')})`);
    const commandDir = await commandDirOf(dir, 'config');
    const stamps = async () => Promise.all(files.map(async (f) => (await stat(join(commandDir, f))).mtimeMs));
    const before = await stamps();
    const second = await lxkit(['config', '-l'], { env });
    assert.equal([second.exitCode, second.stdout], [0, first.stdout]);
    assert.equal(await cacheFiles(dir, 'config'), files, 'used, not replaced');
    assert.equal(await stamps(), before, 'and not rewritten');

    const victim = join(commandDir, files[0]!);
    await writeFile(victim, 'not a code cache');
    const third = await lxkit(['config', '-l'], { env });
    assert.equal([third.exitCode, third.stdout], [0, first.stdout]);
    assert.is.not(await readFile(victim, 'utf8').catch(() => ''), 'not a code cache', 'a rejected cache is made again');
  });
});

cc('a cache directory others can write to is not used; LXKIT_NO_COMPILE_CACHE=1 makes none', async () => {
  await withTmpDir(async (dir) => {
    const env = { XDG_CACHE_HOME: dir };
    assert.is((await lxkit(['config', '-l'], { env })).exitCode, 0);
    const commandDir = await commandDirOf(dir, 'config');
    await rm(commandDir, { recursive: true });
    assert.is((await lxkit(['config', '-l'], { env: { ...env, LXKIT_NO_COMPILE_CACHE: '1' } })).exitCode, 0);
    assert.equal(await cacheFiles(dir, 'config'), [], 'switched off');
    assert.is((await lxkit(['config', '-l'], { env })).exitCode, 0);
    await rm(commandDir, { recursive: true });
    await mkdir(commandDir);
    await chmod(commandDir, 0o777);
    const r = await lxkit(['config', '-l'], { env });
    assert.is(r.exitCode, 0, r.stderr);
    assert.equal(await cacheFiles(dir, 'config'), [], 'a world-writable directory is not trusted with code');
  });
});

/** The cache file name's prefix for a bundle: FNV-1a of its path, as core/bin/lxkit.cjs names them. */
function idOf(filename: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < filename.length; i++) {
    h ^= filename.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

cc('only a command that succeeded writes caches: an unknown command or a failure leaves no directory behind', async () => {
  await withTmpDir(async (dir) => {
    const env = { XDG_CACHE_HOME: dir };
    const unknown = await lxkit(['frobnicate'], { env });
    assert.is(unknown.exitCode, 1, unknown.stderr);
    const failed = await lxkit(['config', '--rcfile', join(dir, 'missing.json'), 'lxc.lxcpath'], { env });
    assert.is.not(failed.exitCode, 0, 'a missing rcfile is an error');
    assert.equal(await readdir(dir), [], 'no cache directory for a word that is no command, nor for a failed run');
    assert.is((await lxkit(['config', '-l'], { env })).exitCode, 0);
    assert.ok((await cacheFiles(dir, 'config')).length >= 2);
  });
});

cc('writing caches removes older ones of the same bundle and ones not written for 30 days; recent ones of other bundles stay', async () => {
  await withTmpDir(async (dir) => {
    const env = { XDG_CACHE_HOME: dir };
    assert.is((await lxkit(['config', '-l'], { env })).exitCode, 0);
    const commandDir = await commandDirOf(dir, 'config');
    const kept = await cacheFiles(dir, 'config');
    const cli = kept.find((f) => f.startsWith(`${idOf(join(ROOT, 'core/dist/cli.cjs'))}-`));
    assert.ok(cli, `the CLI bundle has a cache (${kept.join(' ')})`);
    // An older build of cli.cjs, a long-unused bundle of another checkout, a recent one of another.
    const older = `${cli!.slice(0, 9)}00000000.v8`;
    const gone = 'feedface-00000000.v8';
    const recent = 'c0ffee00-00000000.v8';
    for (const f of [older, gone, recent]) await writeFile(join(commandDir, f), 'x');
    const longAgo = new Date(Date.now() - 40 * 24 * 3600 * 1000);
    await utimes(join(commandDir, gone), longAgo, longAgo);
    // The next run has nothing to write (no cache is missing), so it changes nothing.
    assert.is((await lxkit(['config', '-l'], { env })).exitCode, 0);
    assert.equal(await cacheFiles(dir, 'config'), [...kept, older, gone, recent].sort(), 'a run that writes no cache prunes nothing');
    // A rejected cache (as after a rebuild) makes the run write, and prune.
    await writeFile(join(commandDir, cli!), 'not a code cache');
    assert.is((await lxkit(['config', '-l'], { env })).exitCode, 0);
    assert.equal(await cacheFiles(dir, 'config'), [...kept, recent].sort());
  });
});

cc('a JavaScript toolkit config loads the same from cached code (its import() goes through the core\'s esm part)', async () => {
  await withTmpDir(async (dir) => {
    const env = { XDG_CACHE_HOME: join(dir, 'cache') };
    const rc = join(dir, 'config.mjs');
    await writeFile(rc, "export default { lxcpath: '/from/esm/config' };\n");
    const runs = [];
    for (let i = 0; i < 2; i++) runs.push(await lxkit(['config', '--rcfile', rc, 'lxc.lxcpath'], { env }));
    assert.equal(
      runs.map((r) => [r.exitCode, r.stdout, r.stderr]),
      [
        [0, '/from/esm/config', ''],
        [0, '/from/esm/config', ''],
      ],
    );
    const files = await cacheFiles(join(dir, 'cache'), 'config');
    assert.ok(
      files.some((f) => f.startsWith(`${idOf(join(ROOT, 'core/dist/toolkit.cjs'))}-`)),
      `the toolkit part (cosmiconfig) was taken from a cache on the second run (${files.join(' ')})`,
    );
  });
});

cc('the bundles the CLI loads are the instances require() returns (one module state, one set of classes)', async () => {
  await withTmpDir(async (dir) => {
    // Runs `lxkit config -l` in this process, then asks Node's loader for the same files, by path and by package name.
    const script = `
      const bin = ${JSON.stringify(LXKIT_BIN)};
      process.argv = [process.argv[0], bin, 'config', '-l'];
      require(bin);
      process.on('beforeExit', () => {
        const base = require.resolve(${JSON.stringify(join(ROOT, 'core/dist/base.cjs'))});
        const loaded = Object.keys(require.cache).filter((f) => f.includes('/dist/'));
        const same = require(base) === require.cache[base].exports;
        const core = require(${JSON.stringify(join(ROOT, 'node_modules/@lxkit/core'))});
        process.stderr.write(JSON.stringify({ loaded: loaded.length, cached: base in require.cache, same, error: core.LxkitError === require(base).LxkitError }));
      });`;
    const r = await execa(process.execPath, ['-e', script], { env: { XDG_CACHE_HOME: dir }, reject: false });
    assert.is(r.exitCode, 0, r.stderr);
    const seen = JSON.parse(r.stderr) as { loaded: number; cached: boolean; same: boolean; error: boolean };
    assert.ok(seen.loaded >= 2, 'cli.cjs and base.cjs are in require.cache');
    assert.equal([seen.cached, seen.same, seen.error], [true, true, true]);
  });
});

cc.run();
