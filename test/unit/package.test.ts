/** Facts about the packages that code and metadata must agree on. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BUILTIN_PLUGINS, ERROR_CODES, VERSION, createRuntime } from '@lxkit/core';
import { ROOT } from '../lib/harness.js';

const pkg = suite('packages');

const json = async (p: string) => JSON.parse(await readFile(join(ROOT, p), 'utf8')) as Record<string, unknown>;

pkg('VERSION is the core package version, and built-in plugins share it', async () => {
  assert.is(VERSION, (await json('core/package.json'))['version']);
  const runtime = await createRuntime();
  for (const p of runtime.plugins) assert.is(p.plugin.version, VERSION, p.plugin.name);
  assert.ok(runtime.plugins.length > Object.keys(BUILTIN_PLUGINS).length, 'the core applies its own features as plugins first');
});

pkg('every built-in short name maps to a plugin package of that name in plugins/', async () => {
  for (const [name, pkgName] of Object.entries(BUILTIN_PLUGINS)) {
    const p = await json(`plugins/${name}/package.json`);
    assert.is(p['name'], pkgName);
    const runtime = await createRuntime({ plugins: [{ use: name }] });
    assert.ok(runtime.hasPlugin(name), `${pkgName} defines plugin "${name}"`);
  }
});

pkg('error codes are stable LXKIT_* names with a description', () => {
  for (const [code, what] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^LXKIT_[A-Z_]+$/);
    assert.ok(what.length > 10, code);
  }
});

pkg('the core loads @lxkit/native from beside itself: the same file its package name resolves to', async () => {
  const { realpath } = await import('node:fs/promises');
  const { createRequire } = await import('node:module');
  const native = await json('native/package.json');
  // core/dist/<part>.cjs, two levels below the core, as core/src/native-package.ts counts.
  const beside = join(ROOT, 'core/dist', '../../native', String(native['main']));
  const byName = createRequire(join(ROOT, 'core/dist/base.cjs')).resolve('@lxkit/native');
  assert.is(await realpath(beside), await realpath(byName));
});

pkg.run();
