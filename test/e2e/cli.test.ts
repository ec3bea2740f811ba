/** The CLI as a user runs it: help, common options, logging, config, update-config, aliases. */
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ALIASES, lxkit, testIf, which, withTmpDir } from '../lib/harness.js';

const COMMANDS = ['create', 'start', 'stop', 'wait', 'info', 'freeze', 'unfreeze', 'cgroup', 'cgmanager', 'net', 'monitor', 'attach', 'console', 'execute', 'autostart', 'ls', 'destroy', 'copy', 'snapshot', 'checkpoint', 'checkconfig', 'config', 'usernsexec', 'device', 'top', 'unshare', 'update-config'];

const help = suite('cli: help and usage');

help('lxkit help lists the commands that exist, each with a summary', async () => {
  const r = await lxkit(['help']);
  assert.is(r.exitCode, 0);
  const listed = [...r.stdout.matchAll(/^ {2}([a-z-]+)(?: \[command\])? {2,}\S/gm)].map((m) => m[1]);
  assert.equal(listed, [...COMMANDS, 'help']);
});

help('every command has --help, and `lxkit help CMD` shows its options', async () => {
  for (const cmd of COMMANDS) {
    const r = await lxkit([cmd, '--help']);
    assert.is(r.exitCode, 0, cmd);
    assert.match(r.stdout, new RegExp(`^Usage: lxkit ${cmd} `), cmd);
    assert.match(r.stdout, /--rcfile <file>/, `${cmd} has the common options`);
    const viaHelp = await lxkit(['help', cmd]);
    assert.is(viaHelp.stdout, r.stdout);
  }
});

help('no command, an unknown command or option, and --version', async () => {
  const none = await lxkit([]);
  assert.is(none.exitCode, 1);
  assert.match(none.stderr, /^Usage: lxkit <command> \[options\]/);
  const unknown = await lxkit(['frobnicate']);
  assert.is(unknown.exitCode, 1);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  const badOpt = await lxkit(['config', '--frob']);
  assert.is(badOpt.exitCode, 1);
  assert.match(badOpt.stderr, /unknown option '--frob'/);
  const version = await lxkit(['--version']);
  assert.equal([version.exitCode, version.stdout], [0, '0.1.0']);
});

const config = suite('cli: config (lxc-config)');

config('config -l and config ITEM print as lxc-config does', async () => {
  const list = await lxkit(['config', '-l']);
  assert.is(list.exitCode, 0);
  assert.equal(list.stdout.split('\n'), [
    'lxc.default_config',
    'lxc.lxcpath',
    'lxc.bdev.lvm.vg',
    'lxc.bdev.lvm.thin_pool',
    'lxc.bdev.zfs.root',
    'lxc.cgroup.use',
    'lxc.cgroup.pattern',
    'lxkit.rcfile',
    'lxkit.plugins',
  ]);
  assert.is((await lxkit(['config', 'lxc.lxcpath'])).stdout, '/var/lib/lxkit');
  assert.is((await lxkit(['config', 'lxc.bdev.zfs.root'])).stdout, 'lxc');
  assert.is((await lxkit(['config', 'lxc.cgroup.use'])).stdout, 'lxc.cgroup.use is not set.');
  assert.is((await lxkit(['config', '-P', '/srv/x', 'lxc.lxcpath'])).stdout, '/srv/x');
  const unknown = await lxkit(['config', 'lxc.nope']);
  assert.is(unknown.exitCode, 1);
  assert.is(unknown.stderr, 'lxkit-config: Unknown configuration item: lxc.nope');
  assert.is((await lxkit(['config', '-q', 'lxc.nope'])).stderr, '', '-q silences errors');
});

testIf(config, which('lxc-config') ? undefined : "Debian's lxc is not installed", 'config -l lists LXC\'s items in lxc-config\'s order', async () => {
  const { execa } = await import('execa');
  const theirs = String((await execa('lxc-config', ['-l'])).stdout).split('\n');
  const ours = (await lxkit(['config', '-l'])).stdout.split('\n');
  assert.equal(ours.slice(0, theirs.length), theirs);
});

config('--rcfile is read; a bad one is a clear error', async () => {
  await withTmpDir(async (dir) => {
    await writeFile(join(dir, 'lxkit.yaml'), 'lxcpath: /from/rcfile\nplugins: [caps, net]\n');
    assert.is((await lxkit(['config', '--rcfile', join(dir, 'lxkit.yaml'), 'lxc.lxcpath'])).stdout, '/from/rcfile');
    assert.is((await lxkit(['config', '--rcfile', join(dir, 'lxkit.yaml'), 'lxkit.plugins'])).stdout, 'caps net');
    await writeFile(join(dir, 'bad.json'), '{"lxcpath": 1}');
    const bad = await lxkit(['config', '--rcfile', join(dir, 'bad.json'), 'lxc.lxcpath']);
    assert.is(bad.exitCode, 1);
    assert.is(bad.stderr, `lxkit-config: ${join(dir, 'bad.json')}: lxcpath: Invalid type: Expected string but received 1`);
  });
});

config('the working directory cannot inject configuration or code (cosmiconfig meta config)', async () => {
  await withTmpDir(async (dir) => {
    const marker = join(dir, 'ran');
    const sysconf = join(dir, 'etc-lxkit');
    await mkdir(sysconf);
    // 1. cosmiconfig would run .config/config.js of the working directory as its meta config.
    const codeDir = join(dir, 'code');
    await mkdir(join(codeDir, '.config'), { recursive: true });
    await writeFile(join(codeDir, '.config', 'config.js'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x'); module.exports = {};`);
    const r1 = await lxkit(['config', 'lxc.lxcpath'], { cwd: codeDir, env: { LXKIT_SYSCONFDIR: sysconf } });
    assert.is(r1.stdout, '/var/lib/lxkit');
    // 2. ...and would let package.json's "cosmiconfig" key add search places, even outside the config directory.
    const pkgDir = join(dir, 'pkg');
    await mkdir(pkgDir);
    await writeFile(join(pkgDir, 'evil.cjs'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x'); module.exports = { lxcpath: '/evil' };`);
    await writeFile(join(pkgDir, 'package.json'), JSON.stringify({ cosmiconfig: { searchPlaces: [relative(sysconf, join(pkgDir, 'evil.cjs'))] } }));
    const r2 = await lxkit(['config', 'lxc.lxcpath'], { cwd: pkgDir, env: { LXKIT_SYSCONFDIR: sysconf } });
    assert.is(r2.stdout, '/var/lib/lxkit');
    assert.not.ok(existsSync(marker), 'nothing in the working directory was run');
    await writeFile(join(pkgDir, 'rc.yaml'), 'lxcpath: /from/relative/rcfile\n');
    const rel = await lxkit(['config', '--rcfile', 'rc.yaml', 'lxc.lxcpath'], { cwd: pkgDir });
    assert.is(rel.stdout, '/from/relative/rcfile', 'a relative --rcfile is still relative to the working directory');
  });
});

config('config validate: exit 0 when valid; one FILE:LINE: KEY: reason line per problem and exit 1 otherwise', async () => {
  await withTmpDir(async (dir) => {
    const good = join(dir, 'good.conf');
    const bad = join(dir, 'bad.conf');
    const legacy = join(dir, 'legacy.conf');
    await writeFile(good, 'lxc.uts.name = c1\nlxc.net.0.type = empty\n');
    await writeFile(bad, 'lxc.tty.max = -1\nlxc.idmap = u 0 x 1\nlxc.signal.halt = SIGNOPE\nlxc.bogus = 1\n');
    await writeFile(legacy, 'lxc.utsname = old\n');
    const ok = await lxkit(['config', 'validate', good]);
    assert.equal([ok.exitCode, ok.stdout, ok.stderr], [0, '', '']);
    const r = await lxkit(['config', 'validate', good, bad, join(dir, 'missing.conf')]);
    assert.is(r.exitCode, 1);
    assert.equal(r.stdout.split('\n'), [
      `${bad}:1: lxc.tty.max: expected a number of ttys, got "-1"`,
      `${bad}:2: lxc.idmap: hostid "x" is not a number`,
      `${bad}:3: lxc.signal.halt: unknown signal "SIGNOPE"`,
      `${bad}:4: lxc.bogus: unknown key`,
      `${join(dir, 'missing.conf')}: cannot read container config ${join(dir, 'missing.conf')}: ENOENT`,
    ]);
    const l = await lxkit(['config', 'validate', legacy]);
    assert.is(l.exitCode, 0, 'legacy keys are warnings, not errors');
    assert.is(l.stderr, `${legacy}:1: lxc.utsname: warning: legacy key, read as lxc.uts.name; run "lxkit update-config -c ${legacy}" to convert the file`);
    const json = await lxkit(['config', 'validate', '--json', bad]);
    assert.is(json.exitCode, 1);
    const report = JSON.parse(json.stdout) as { file: string; problems: { line: number; key: string }[] }[];
    assert.equal(report[0]!.problems.map((p) => [p.line, p.key]), [[1, 'lxc.tty.max'], [2, 'lxc.idmap'], [3, 'lxc.signal.halt'], [4, 'lxc.bogus']]);
  });
});

config('config validate with a toolkit config that leaves a plugin out', async () => {
  await withTmpDir(async (dir) => {
    await writeFile(join(dir, 'rc.json'), '{"plugins": ["caps"]}');
    await writeFile(join(dir, 'c.conf'), 'lxc.cap.drop = sys_time\nlxc.net.0.type = veth\n');
    const r = await lxkit(['config', 'validate', '--rcfile', join(dir, 'rc.json'), join(dir, 'c.conf')]);
    assert.is(r.exitCode, 1);
    assert.is(r.stdout, `${join(dir, 'c.conf')}:2: lxc.net.0.type: handled by plugin "net", which is not enabled`);
  });
});

const update = suite('cli: update-config (lxc-update-config)');

update('update-config -c FILE converts, keeps FILE.backup, says what it did', async () => {
  await withTmpDir(async (dir) => {
    const file = join(dir, 'config');
    await writeFile(file, '# old\nlxc.utsname = c1\nlxc.network.type = veth\nlxc.network.0.ipv4 = 10.0.0.2/24\nlxc.limit.nofile = 10\n');
    const r = await lxkit(['update-config', '-c', file]);
    assert.is(r.exitCode, 0);
    assert.is(r.stdout, `${file}: 4 line(s) converted; the original is in ${file}.backup`);
    assert.is(
      await readFile(file, 'utf8'),
      '# old\nlxc.uts.name = c1\nlxc.net.1.type = veth\nlxc.net.0.ipv4.address = 10.0.0.2/24\nlxc.prlimit.nofile = 10\n',
    );
    assert.ok((await readFile(`${file}.backup`, 'utf8')).includes('lxc.utsname'));
    const again = await lxkit(['update-config', '-c', file]);
    assert.is(again.stdout, `${file}: no legacy keys, unchanged`);
    const missing = await lxkit(['update-config']);
    assert.is(missing.exitCode, 1);
    assert.match(missing.stderr, /required option '-c, --config <file>' not specified/);
    const nofile = await lxkit(['update-config', '-c', join(dir, 'nope')]);
    assert.is(nofile.exitCode, 1);
    assert.match(nofile.stderr, /cannot read container config .*nope: ENOENT/);
  });
});

const logging = suite('cli: logging (-o, -l, -q)');

logging('-o FILE -l DEBUG appends LXC-style lines; a bad priority is a usage error', async () => {
  await withTmpDir(async (dir) => {
    const log = join(dir, 'lxkit.log');
    await writeFile(join(dir, 'c.conf'), 'lxc.uts.name = c1\n');
    const r = await lxkit(['config', 'validate', '-o', log, '-l', 'DEBUG', join(dir, 'c.conf')]);
    assert.is(r.exitCode, 0);
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    assert.ok(lines.length >= 5, 'one DEBUG line per loaded plugin');
    for (const line of lines) assert.match(line, /^lxkit-config {2}\d{14}\.\d{3} DEBUG {4}lxkit - loaded plugin \S+ 0\.1\.0 from file:\/\//);
    const bad = await lxkit(['config', 'validate', '-l', 'LOUD', join(dir, 'c.conf')]);
    assert.is(bad.exitCode, 1);
    assert.match(bad.stderr, /option '-l, --logpriority <level>' argument 'LOUD' is invalid\. unknown log level "LOUD"/);
    const stderrDebug = await lxkit(['config', 'validate', '-l', '1', join(dir, 'c.conf')]);
    assert.match(stderrDebug.stderr, /^lxkit-config: DEBUG: loaded plugin apparmor/m, '-l without -o shows the level on stderr');
  });
});

const aliases = suite('cli: lxc-* aliases');

aliases('core/aliases holds one lxc-<command> link per command, and each works', async () => {
  const names = (await readdir(ALIASES)).sort();
  assert.equal(names, COMMANDS.filter((c) => c !== 'cgmanager' && c !== 'net').map((c) => `lxc-${c}`).sort());
  for (const n of names) {
    assert.ok((await lstat(join(ALIASES, n))).isSymbolicLink(), n);
    assert.is(await readlink(join(ALIASES, n)), '../bin/lxkit.cjs');
  }
  const r = await lxkit(['-l'], { bin: join(ALIASES, 'lxc-config') });
  assert.is(r.exitCode, 0);
  assert.match(r.stdout, /^lxc\.default_config\nlxc\.lxcpath\n/);
  const item = await lxkit(['lxc.bdev.lvm.vg'], { bin: join(ALIASES, 'lxc-config') });
  assert.is(item.stdout, 'lxc');
  const bad = await lxkit(['nope'], { bin: join(ALIASES, 'lxc-config') });
  assert.is(bad.stderr, 'lxc-config: Unknown configuration item: nope', 'messages name the alias the user called');
});

help.run();
config.run();
update.run();
logging.run();
aliases.run();
