/** The CLI's V8 code cache (core/bin/lxkit.cjs): made after a run, used by the next, never trusted blindly. */
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { LXKIT_BIN, ROOT, lxkit, withTmpDir } from '../lib/harness.js';

const cc = suite('compile cache');

async function cacheFiles(base: string, command: string): Promise<string[]> {
  const [versionDir] = await readdir(join(base, 'lxkit'));
  return (await readdir(join(base, 'lxkit', versionDir!, command)).catch(() => [] as string[])).filter((f) => f.endsWith('.v8')).sort();
}

cc('a command leaves a cache that the next run uses; a damaged cache is replaced; output never changes', async () => {
  await withTmpDir(async (dir) => {
    const env = { XDG_CACHE_HOME: dir };
    const first = await lxkit(['config', '-l'], { env });
    assert.is(first.exitCode, 0, first.stderr);
    const files = await cacheFiles(dir, 'config');
    assert.ok(files.length >= 2, `one cache per bundle the command loaded (${files.join(' ')})`);
    const [versionDir] = await readdir(join(dir, 'lxkit'));
    const stamps = async () => Promise.all(files.map(async (f) => (await stat(join(dir, 'lxkit', versionDir!, 'config', f))).mtimeMs));
    const before = await stamps();
    const second = await lxkit(['config', '-l'], { env });
    assert.equal([second.exitCode, second.stdout], [0, first.stdout]);
    assert.equal(await cacheFiles(dir, 'config'), files, 'used, not replaced');
    assert.equal(await stamps(), before, 'and not rewritten');

    const victim = join(dir, 'lxkit', versionDir!, 'config', files[0]!);
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
    const [versionDir] = await readdir(join(dir, 'lxkit'));
    const commandDir = join(dir, 'lxkit', versionDir!, 'config');
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
