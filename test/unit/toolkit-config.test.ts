/** Finding and reading the toolkit configuration (cosmiconfig), as root and as an ordinary user. */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { findToolkitConfigFile, isLxkitError, loadToolkitConfig, systemConfigItem, SYSTEM_CONFIG_ITEMS } from '@lxkit/core';
import { lxkit, ROOT, testIf, which, withTmpDir } from '../lib/harness.js';

const toolkit = suite('toolkit config');

async function withSysconf<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env['LXKIT_SYSCONFDIR'];
  process.env['LXKIT_SYSCONFDIR'] = dir;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env['LXKIT_SYSCONFDIR'];
    else process.env['LXKIT_SYSCONFDIR'] = before;
  }
}

toolkit('without a config file, LXC-like defaults for root', async () => {
  await withTmpDir((dir) =>
    withSysconf(join(dir, 'etc-lxkit'), async () => {
      const c = await loadToolkitConfig();
      assert.is(c.file, undefined);
      assert.is(c.lxcpath, '/var/lib/lxkit');
      assert.is(c.defaultConfig, join(dir, 'etc-lxkit', 'default.conf'));
      assert.equal([c.lvm, c.zfs, c.cgroup], [{ vg: 'lxc', thinPool: 'lxc' }, { root: 'lxc' }, {}]);
      assert.equal(
        SYSTEM_CONFIG_ITEMS.map((i) => [i, systemConfigItem(c, i)]),
        [
          ['lxc.default_config', join(dir, 'etc-lxkit', 'default.conf')],
          ['lxc.lxcpath', '/var/lib/lxkit'],
          ['lxc.bdev.lvm.vg', 'lxc'],
          ['lxc.bdev.lvm.thin_pool', 'lxc'],
          ['lxc.bdev.zfs.root', 'lxc'],
          ['lxc.cgroup.use', undefined],
          ['lxc.cgroup.pattern', undefined],
          ['lxkit.rcfile', undefined],
          ['lxkit.plugins', 'apparmor caps cgmanager criu net seccomp storage-btrfs storage-loop storage-lvm storage-overlay storage-zfs templates'],
        ],
      );
    }),
  );
});

toolkit('root reads the system-wide directory; -P overrides lxcpath', async () => {
  await withTmpDir(async (dir) => {
    await writeFile(
      join(dir, 'config.yaml'),
      'lxcpath: /srv/containers\nlvm: { vg: vg0, thinPool: tp }\nzfs: { root: tank/lxc }\ncgroup: { pattern: "lxkit/%n" }\nplugins: [caps]\n',
    );
    await withSysconf(dir, async () => {
      const c = await loadToolkitConfig();
      assert.is(c.file, join(dir, 'config.yaml'));
      assert.is(c.lxcpath, '/srv/containers');
      assert.equal([c.lvm, c.zfs, c.cgroup], [{ vg: 'vg0', thinPool: 'tp' }, { root: 'tank/lxc' }, { pattern: 'lxkit/%n' }]);
      assert.equal(c.plugins, [{ use: 'caps', from: join(dir, 'config.yaml') }]);
      assert.is((await loadToolkitConfig({ lxcpath: '/other' })).lxcpath, '/other');
    });
  });
});

async function invalid(text: string, name = 'config.json'): Promise<string> {
  return withTmpDir(async (dir) => {
    await writeFile(join(dir, name), text);
    try {
      await loadToolkitConfig({ rcfile: join(dir, name) });
    } catch (err) {
      assert.ok(isLxkitError(err, 'LXKIT_TOOLKIT_CONFIG_INVALID'), String(err));
      assert.is(err.file, join(dir, name));
      return err.message.replaceAll(dir, '<dir>');
    }
    throw new Error('should fail');
  });
}

toolkit('the lxcpath the commands use: -P, else the config file\'s, else the default (found with no config file read)', async () => {
  await withTmpDir(async (dir) => {
    const etc = join(dir, 'etc-lxkit');
    const lxcpath = join(dir, 'containers');
    await mkdir(join(lxcpath, 'c1'), { recursive: true });
    await writeFile(join(lxcpath, 'c1', 'config'), 'lxc.uts.name = c1\n');
    const env = { LXKIT_SYSCONFDIR: etc, LXKIT_RUNDIR: join(dir, 'run') };
    await withSysconf(etc, async () => assert.is(findToolkitConfigFile(), undefined));
    // No file: the default lxcpath, which holds no c1.
    const none = await lxkit(['info', '-n', 'c1', '-s'], { env });
    assert.is(none.exitCode, 1);
    assert.match(none.stderr, /container "c1" does not exist/);
    await mkdir(etc);
    await writeFile(join(etc, 'config.yml'), `lxcpath: ${lxcpath}\n`);
    await withSysconf(etc, async () => assert.is(findToolkitConfigFile(), join(etc, 'config.yml')));
    const configured = await lxkit(['info', '-n', 'c1', '-s'], { env });
    assert.is(configured.stdout, 'State:          STOPPED', configured.stderr);
    const explicit = await lxkit(['info', '-n', 'c1', '-s', '-P', join(dir, 'elsewhere')], { env });
    assert.is(explicit.exitCode, 1, '-P wins over the config file');
  });
});

toolkit('bad toolkit configs name the file and what is wrong', async () => {
  assert.is(
    await invalid('{"lvm": {"vgname": "x"}}'),
    '<dir>/config.json: lvm.vgname: Invalid key: Expected never but received "vgname"',
  );
  assert.is(await invalid('{"lxcpath": 5}'), '<dir>/config.json: lxcpath: Invalid type: Expected string but received 5');
  assert.match(await invalid('{\n  "lxcpath": "/x",\n}'), /^<dir>\/config\.json: invalid JSON at line 3, column 1: /);
  assert.match(await invalid('lxcpath: [unclosed', 'config.yaml'), /^<dir>\/config\.yaml: invalid YAML: unexpected end of the stream within a flow collection \(2:1\)/);
  try {
    await loadToolkitConfig({ rcfile: '/nonexistent-lxkit/config.yaml' });
    assert.unreachable();
  } catch (err) {
    assert.ok(isLxkitError(err, 'LXKIT_TOOLKIT_CONFIG_INVALID'));
    assert.is(err.message, '/nonexistent-lxkit/config.yaml: no such file');
  }
});

toolkit('a JavaScript toolkit config may give plugin objects directly', async () => {
  await withTmpDir(async (dir) => {
    const core = join(ROOT, 'core/dist/index.cjs');
    await writeFile(
      join(dir, 'config.mjs'),
      `import { definePlugin } from ${JSON.stringify(core)};\nexport default { plugins: [definePlugin({ name: 'inline', version: '1.0.0', apply() {} })] };\n`,
    );
    const c = await loadToolkitConfig({ rcfile: join(dir, 'config.mjs') });
    assert.is(c.plugins.length, 1);
    assert.is(typeof c.plugins[0]!.use, 'object');
  });
});

/** Runs loadToolkitConfig as user nobody, printing what it found. */
async function asNobody(home: string, sysconf: string) {
  const script = `const { loadToolkitConfig } = require(${JSON.stringify(join(ROOT, 'core/dist/index.cjs'))});
loadToolkitConfig().then((c) => console.log(JSON.stringify({ file: c.file ?? null, lxcpath: c.lxcpath, defaultConfig: c.defaultConfig })));`;
  const r = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script], {
    env: { HOME: home, LXKIT_SYSCONFDIR: sysconf, PATH: process.env['PATH'] ?? '' },
    extendEnv: false,
    cwd: home,
  });
  return JSON.parse(String(r.stdout)) as { file: string | null; lxcpath: string; defaultConfig: string };
}

testIf(toolkit, which('setpriv') ? undefined : 'setpriv (util-linux) is not installed', 'an ordinary user reads ~/.config/lxkit first, then the system directory; data under ~/.local/share', async () => {
  await withTmpDir(async (dir) => {
    await chmod(dir, 0o755);
    const home = join(dir, 'home');
    const sys = join(dir, 'etc');
    await mkdir(join(home, '.config', 'lxkit'), { recursive: true });
    await mkdir(sys);
    await writeFile(join(sys, 'config.json'), '{"lxcpath": "/from/system"}');
    await execa('chown', ['-R', '65534:65534', home]);
    assert.equal(await asNobody(home, sys), {
      file: join(sys, 'config.json'),
      lxcpath: '/from/system',
      defaultConfig: join(home, '.config', 'lxkit', 'default.conf'),
    });
    await writeFile(join(home, '.config', 'lxkit', 'config.yaml'), 'plugins: ["..."]\n');
    await execa('chown', ['-R', '65534:65534', home]);
    assert.equal(await asNobody(home, sys), {
      file: join(home, '.config', 'lxkit', 'config.yaml'),
      lxcpath: join(home, '.local', 'share', 'lxkit'),
      defaultConfig: join(home, '.config', 'lxkit', 'default.conf'),
    });
  });
});

toolkit.run();
