/**
 * Plugins named in a toolkit config: resolution (built-in short names,
 * paths relative to the config file, packages), the distinct failures, and
 * dependency order.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRuntime, definePlugin, isLxkitError, loadToolkitConfig, type ErrorCode } from '@lxkit/core';
import { ROOT, withRepoTmpDir, withTmpDir } from '../lib/harness.js';
import { startContext, stopContext } from '../lib/config.js';

/** A plugin module that records its taps on globalThis so the test can see them run. */
const SITE_PLUGIN = `
import { definePlugin } from '@lxkit/core';
import * as v from 'valibot';
export default definePlugin({
  name: 'site-audit',
  version: '1.2.3',
  lxkit: '>=0.1.0',
  dependsOn: ['helper'],
  options: v.object({ tag: v.string(), level: v.optional(v.number(), 1) }),
  apply(runtime, options) {
    (globalThis.__siteAudit ??= []).push('apply:' + options.tag + ':' + options.level);
    runtime.hooks.preStart.tap('site-audit', () => { globalThis.__siteAudit.push('preStart'); });
    runtime.hooks.postStop.tapPromise('site-audit', async () => { throw new Error('audit log unwritable'); });
  },
});
`;
const HELPER_PLUGIN = `
import { definePlugin } from '@lxkit/core';
export default definePlugin({ name: 'helper', version: '0.0.1', apply() { (globalThis.__siteAudit ??= []).push('apply:helper'); } });
`;

const loader = suite('plugin loader');

loader('a plugin named by a path relative to the toolkit config is loaded, ordered after its dependency, and its taps run', async () => {
  await withRepoTmpDir(async (dir) => {
    await mkdir(join(dir, 'site'));
    await writeFile(join(dir, 'site', 'audit.mjs'), SITE_PLUGIN);
    await writeFile(join(dir, 'site', 'helper.mjs'), HELPER_PLUGIN);
    await writeFile(
      join(dir, 'config.yaml'),
      ['plugins:', '  - use: ./site/audit.mjs', '    options: { tag: night }', '  - ./site/helper.mjs', '  - caps'].join('\n'),
    );
    const g = globalThis as { __siteAudit?: string[] };
    g.__siteAudit = [];
    const runtime = await createRuntime({ rcfile: join(dir, 'config.yaml') });
    assert.equal(
      runtime.plugins.filter((p) => p.url !== '<core>').map((p) => p.plugin.name),
      ['helper', 'site-audit', 'caps'],
    );
    const audit = runtime.plugins.find((p) => p.plugin.name === 'site-audit')!;
    assert.equal(audit.options, { tag: 'night', level: 1 }, 'options are validated and defaulted by the schema');
    assert.is(audit.specifier, './site/audit.mjs');
    assert.ok(audit.url.endsWith('/site/audit.mjs'));
    await runtime.hooks.preStart.promise((await startContext()) as never);
    assert.equal(g.__siteAudit, ['apply:helper', 'apply:night:1', 'preStart']);
    const ctx = await stopContext();
    await runtime.hooks.postStop.promise(ctx);
    const [err] = ctx.errors;
    assert.ok(isLxkitError(err, 'LXKIT_HOOK_FAILED'));
    assert.is(err.hook, 'postStop');
    assert.is(err.plugin, 'site-audit');
    assert.is(err.message, 'postStop hook of plugin "site-audit" failed: audit log unwritable');
  });
});

async function failure(files: Record<string, string>, config: string): Promise<{ code: ErrorCode; message: string; plugin?: string }> {
  return withRepoTmpDir(async (dir) => {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    await writeFile(join(dir, 'config.json'), config);
    try {
      await createRuntime({ rcfile: join(dir, 'config.json') });
    } catch (err) {
      if (!isLxkitError(err)) throw err;
      return { code: err.code, message: err.message.replaceAll(dir, '<dir>'), ...(err.plugin ? { plugin: err.plugin } : {}) };
    }
    throw new Error('createRuntime should have failed');
  });
}

loader('not found, failed to load and options invalid are distinct errors', async () => {
  assert.equal(await failure({}, '{"plugins": ["./nope.mjs"]}'), {
    code: 'LXKIT_PLUGIN_NOT_FOUND',
    message: 'plugin "./nope.mjs" not found (named in <dir>/config.json)',
    plugin: './nope.mjs',
  });
  assert.equal(await failure({}, '{"plugins": ["lxkit-plugin-that-does-not-exist"]}'), {
    code: 'LXKIT_PLUGIN_NOT_FOUND',
    message: 'plugin "lxkit-plugin-that-does-not-exist" not found (named in <dir>/config.json)',
    plugin: 'lxkit-plugin-that-does-not-exist',
  });
  const crash = await failure({ 'crash.mjs': 'throw new Error("boom at import");' }, '{"plugins": ["./crash.mjs"]}');
  assert.equal(crash, { code: 'LXKIT_PLUGIN_LOAD_FAILED', message: 'plugin "./crash.mjs" failed to load: boom at import', plugin: './crash.mjs' });
  const notPlugin = await failure({ 'plain.mjs': 'export default { name: "x" };' }, '{"plugins": ["./plain.mjs"]}');
  assert.is(notPlugin.code, 'LXKIT_PLUGIN_LOAD_FAILED');
  assert.match(notPlugin.message, /its default export is not a plugin/);
  const badDep = await failure({ 'dep.mjs': `import 'lxkit-missing-dependency-package';` }, '{"plugins": ["./dep.mjs"]}');
  assert.is(badDep.code, 'LXKIT_PLUGIN_LOAD_FAILED', 'a plugin that exists but cannot load its own imports failed to load');
  const options = await failure(
    { 'audit.mjs': SITE_PLUGIN, 'helper.mjs': HELPER_PLUGIN },
    '{"plugins": ["./helper.mjs", {"use": "./audit.mjs", "options": {"tag": 7}}]}',
  );
  assert.equal(options.code, 'LXKIT_PLUGIN_OPTIONS_INVALID');
  assert.match(options.message, /^options of plugin "site-audit" are invalid \(in <dir>\/config.json\):\n {2}tag: Invalid type: Expected string but received 7$/);
  const noOptions = await failure({ 'helper.mjs': HELPER_PLUGIN }, '{"plugins": [{"use": "./helper.mjs", "options": {"x": 1}}]}');
  assert.equal(noOptions, { code: 'LXKIT_PLUGIN_OPTIONS_INVALID', message: 'plugin "helper" takes no options (in <dir>/config.json)', plugin: 'helper' });
});

loader('dependencies, duplicates and version ranges are checked', async () => {
  const missingDep = await failure({ 'audit.mjs': SITE_PLUGIN }, '{"plugins": [{"use": "./audit.mjs", "options": {"tag": "x"}}]}');
  assert.equal(missingDep, {
    code: 'LXKIT_PLUGIN_DEPENDENCY',
    message: 'plugin "site-audit" depends on plugin "helper", which is not enabled',
    plugin: 'site-audit',
  });
  const dup = await failure({ 'helper.mjs': HELPER_PLUGIN, 'helper2.mjs': HELPER_PLUGIN }, '{"plugins": ["./helper.mjs", "./helper2.mjs"]}');
  assert.is(dup.code, 'LXKIT_PLUGIN_DUPLICATE');
  const future = `import { definePlugin } from '@lxkit/core'; export default definePlugin({ name: 'future', version: '9.0.0', lxkit: '^9.0.0', apply() {} });`;
  const incompatible = await failure({ 'future.mjs': future }, '{"plugins": ["./future.mjs"]}');
  assert.equal(incompatible, { code: 'LXKIT_PLUGIN_INCOMPATIBLE', message: 'plugin "future" 9.0.0 needs lxkit ^9.0.0, this is 0.1.0', plugin: 'future' });
  const badVersion = `import { definePlugin } from '@lxkit/core'; export default definePlugin({ name: 'odd', version: 'one', apply() {} });`;
  assert.is((await failure({ 'odd.mjs': badVersion }, '{"plugins": ["./odd.mjs"]}')).code, 'LXKIT_PLUGIN_LOAD_FAILED');
  const loop = definePlugin({ name: 'loop-a', version: '1.0.0', dependsOn: ['loop-b'], apply() {} });
  const loopB = definePlugin({ name: 'loop-b', version: '1.0.0', dependsOn: ['loop-a'], apply() {} });
  try {
    await createRuntime({ plugins: [{ use: loop }, { use: loopB }] });
    assert.unreachable();
  } catch (err) {
    assert.ok(isLxkitError(err, 'LXKIT_PLUGIN_DEPENDENCY'));
    assert.match(err.message, /loop-a -> loop-b -> loop-a/);
  }
});

loader('a plugin whose apply() throws is LXKIT_PLUGIN_APPLY_FAILED', async () => {
  const broken = definePlugin({
    name: 'broken',
    version: '1.0.0',
    apply() {
      throw new Error('cannot start');
    },
  });
  try {
    await createRuntime({ plugins: [{ use: broken }] });
    assert.unreachable();
  } catch (err) {
    assert.ok(isLxkitError(err, 'LXKIT_PLUGIN_APPLY_FAILED'));
    assert.is(err.message, 'plugin "broken" failed to apply: cannot start');
  }
});

loader('"..." stands for the installed built-ins; no plugins key means the same', async () => {
  await withRepoTmpDir(async (dir) => {
    await writeFile(join(dir, 'helper.mjs'), HELPER_PLUGIN);
    await writeFile(join(dir, 'a.json'), '{"plugins": ["./helper.mjs", "..."]}');
    await writeFile(join(dir, 'url.json'), JSON.stringify({ plugins: [pathToFileURL(join(dir, 'helper.mjs')).href] }));
    const byUrl = await createRuntime({ rcfile: join(dir, 'url.json') });
    assert.ok(byUrl.hasPlugin('helper'), 'a file: URL specifier works too');
    await writeFile(join(dir, 'b.json'), '{}');
    const a = await loadToolkitConfig({ rcfile: join(dir, 'a.json') });
    assert.equal(
      a.plugins.map((p) => p.use),
      ['./helper.mjs', 'apparmor', 'caps', 'cgmanager', 'criu', 'net', 'seccomp', 'storage-btrfs', 'storage-loop', 'storage-lvm', 'storage-overlay', 'storage-zfs', 'templates'],
    );
    const b = await loadToolkitConfig({ rcfile: join(dir, 'b.json') });
    assert.equal(b.plugins.map((p) => p.use), ['apparmor', 'caps', 'cgmanager', 'criu', 'net', 'seccomp', 'storage-btrfs', 'storage-loop', 'storage-lvm', 'storage-overlay', 'storage-zfs', 'templates']);
    const runtime = await createRuntime({ toolkit: b });
    const configured = runtime.plugins.filter((p) => p.url !== '<core>');
    assert.equal(configured.map((p) => p.plugin.name), ['apparmor', 'caps', 'cgmanager', 'criu', 'net', 'seccomp', 'storage-btrfs', 'storage-loop', 'storage-lvm', 'storage-overlay', 'storage-zfs', 'templates']);
    assert.ok(configured.every((p) => p.url.includes('/plugins/')));
  });
});

loader('definePlugin rejects malformed definitions at once', () => {
  assert.throws(() => definePlugin({ name: 'Bad Name', version: '1.0.0', apply() {} }), /must be lowercase/);
  assert.throws(() => definePlugin({ name: 'x', version: '1.0.0', apply: 5 as never }), /apply must be a function/);
  assert.throws(() => definePlugin({ name: 'x', version: '1.0.0', dependsOn: 'y' as never, apply() {} }), /dependsOn/);
});

loader("a built-in plugin's bundle works with the core that loads it, wherever it lies (no @lxkit/core to resolve from there)", async () => {
  await withTmpDir(async (dir) => {
    // Outside the repository: require('@lxkit/core') from here would fail.
    const copy = join(dir, 'caps-copy.cjs');
    await copyFile(join(ROOT, 'plugins/caps/dist/index.cjs'), copy);
    const runtime = await createRuntime({ plugins: [{ use: copy }] });
    assert.is(runtime.plugins.map((p) => p.plugin.name).at(-1), 'caps');
    assert.is((globalThis as Record<symbol, unknown>)[Symbol.for('@lxkit/core')], undefined, 'published only while it loads');
    // Its keys are the loading core's: lxc.cap.drop is validated by it.
    const ctx = await startContext('lxc.cap.drop = sys_module\n', [{ use: copy }]);
    assert.ok(ctx.container.config.model.caps, 'the copy modelled lxc.cap.* for this core');
  });
});

loader.run();
