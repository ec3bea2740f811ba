/**
 * Compatibility with the configs Debian's lxc package installs and the
 * configs LXC's own templates write: each validates with no problem through
 * every built-in plugin, and round-trips byte for byte.
 */
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigDocument, formatProblem, validateContainerConfig } from '@lxkit/core';
import { runtimeWith } from '../lib/config.js';
import { testIf, which, withTmpDir } from '../lib/harness.js';

const LXC_MISSING = which('lxc-create') ? undefined : "Debian's lxc package is not installed (npm run setup installs it)";

/** Container configs among the *.conf files of the lxc packages (the rest are seccomp policies and sysctl files). */
async function debianContainerConfigs(): Promise<{ containers: string[]; others: string[] }> {
  const { stdout } = await execa('dpkg', ['-L', 'lxc', 'liblxc1', 'liblxc-common'], { reject: false });
  const confs = String(stdout)
    .split('\n')
    .filter((p) => p.endsWith('.conf'));
  const containers: string[] = [];
  const others: string[] = [];
  for (const p of confs) {
    const text = await readFile(p, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    // A seccomp policy starts with its version number; a sysctl file lives in sysctl.d.
    if (/^[12]\s*\n/.test(text) || p.includes('/sysctl.d/')) others.push(p);
    else containers.push(p);
  }
  return { containers, others };
}

async function assertCompatible(file: string): Promise<void> {
  const runtime = await runtimeWith();
  const { problems } = await validateContainerConfig(runtime, { path: file });
  assert.equal(problems.map(formatProblem), [], `${file} validates with no problem`);
  const bytes = await readFile(file);
  assert.ok(ConfigDocument.fromBuffer(bytes, file).toBuffer().equals(bytes), `${file} round-trips byte for byte`);
}

const compat = suite('LXC compatibility');

testIf(compat, LXC_MISSING, "every container config Debian's lxc installs validates and round-trips", async () => {
  const { containers, others } = await debianContainerConfigs();
  assert.ok(containers.length >= 12, `found ${containers.length}`);
  assert.ok(containers.includes('/usr/share/lxc/config/common.conf'));
  assert.ok(containers.includes('/etc/lxc/default.conf'));
  assert.equal(others.map((p) => p.split('/').pop()).sort(), ['30-lxc-inotify.conf', 'seccomp-v1.conf', 'seccomp-v2-denylist.conf', 'seccomp-v2.conf']);
  for (const file of containers) await assertCompatible(file);
});

testIf(compat, LXC_MISSING ?? (which('busybox') ? undefined : 'busybox is not installed'), 'the config lxc-create -t busybox writes validates and round-trips', async () => {
  await withTmpDir(async (dir) => {
    try {
      await execa('lxc-create', ['-P', dir, '-n', 'bb', '-t', 'busybox']);
      const file = join(dir, 'bb', 'config');
      assert.match(await readFile(file, 'utf8'), /lxc\.mount\.entry = \/sys\/kernel\/security/);
      await assertCompatible(file);
    } finally {
      await execa('lxc-destroy', ['-P', dir, '-n', 'bb'], { reject: false });
    }
  });
});

testIf(compat, LXC_MISSING ?? (which('xz') ? undefined : 'xz is not installed'), 'the config lxc-create -t local writes (distribution image layout) validates and round-trips', async () => {
  await withTmpDir(async (dir) => {
    // An image in the images.linuxcontainers.org layout: metadata with a
    // distribution config that includes LXC's shared configs, and a rootfs.
    const meta = join(dir, 'meta');
    await mkdir(join(meta), { recursive: true });
    await writeFile(
      join(meta, 'config'),
      'lxc.include = LXC_TEMPLATE_CONFIG/common.conf\nlxc.arch = x86_64\n',
    );
    await writeFile(join(meta, 'config-user'), 'lxc.include = LXC_TEMPLATE_CONFIG/common.conf\nlxc.include = LXC_TEMPLATE_CONFIG/userns.conf\nlxc.arch = x86_64\n');
    await writeFile(join(meta, 'metadata.yaml'), 'architecture: amd64\ncreation_date: 0\n');
    await execa('tar', ['-cJf', join(dir, 'meta.tar.xz'), '-C', meta, '.']);
    await mkdir(join(dir, 'tree', 'etc'), { recursive: true });
    await execa('tar', ['-cJf', join(dir, 'rootfs.tar.xz'), '-C', join(dir, 'tree'), '.']);
    const lxcpath = join(dir, 'lxc');
    await mkdir(lxcpath);
    try {
      await execa('lxc-create', ['-P', lxcpath, '-n', 'img', '-t', 'local', '--', '--metadata', join(dir, 'meta.tar.xz'), '--fstree', join(dir, 'rootfs.tar.xz')]);
      const file = join(lxcpath, 'img', 'config');
      const text = await readFile(file, 'utf8');
      assert.match(text, /lxc\.include = \/usr\/share\/lxc\/config\/common\.conf/);
      assert.match(text, /# Network configuration/);
      await assertCompatible(file);
    } finally {
      await execa('lxc-destroy', ['-P', lxcpath, '-n', 'img'], { reject: false });
    }
  });
});

const others = ['lxc-download needs network access to an image server', 'lxc-oci needs skopeo and umoci, which lxkit does not install'];
testIf(compat, 'needs what this machine must not use: ' + others.join('; '), 'the configs of the download and oci templates', async () => {
  const templates = await readdir('/usr/share/lxc/templates');
  assert.ok(templates.includes('lxc-download'));
});

compat.run();
