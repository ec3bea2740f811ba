/**
 * `lxkit create -t local`: a container from an image in LXC's image format
 * (a rootfs tarball and a metadata tarball), made here from a busybox
 * rootfs; compared with LXC's own lxc-local on the same image.
 */
import { readFile, readdir, writeFile, mkdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { asNobodyIn, lxkitIn, testIf, withLxcPivotCleanup, withScratch, withSubordinateIds, type Scratch } from '../lib/harness.js';
import { imageIn } from '../lib/image.js';

const test = suite('template-local');
const LXC_LOCAL = '/usr/share/lxc/templates/lxc-local';

/** A default config of the test's: a comment, a network, another key. */
async function defaultConfig(s: Scratch): Promise<string> {
  const file = join(s.dir, 'default.conf');
  await writeFile(file, '# the site default\nlxc.net.0.type = empty\nlxc.apparmor.profile = unconfined\n');
  return file;
}

test('a privileged container from the image: the config laid out as LXC lays it out, the LXC_* words replaced, the fstab and create message; it runs', async () => {
  await withScratch(async (s) => {
    const img = await imageIn(s);
    const r = await lxkitIn(s, 'create', '-n', 'p1', '-f', await defaultConfig(s), '-t', 'local', '--', '-m', img.meta, '-f', img.fstree, '--privileged');
    assert.is(r.exitCode, 0, r.stderr);
    assert.is(r.stdout, 'Made from the test image.');
    const dir = join(s.lxcpath, 'p1');
    const config = await readFile(join(dir, 'config'), 'utf8');
    const order = ['# the site default', '# Distribution configuration', '# the image, privileged', 'lxc.environment = IMAGE_OF=p1', '# Container specific configuration', 'lxc.apparmor.profile = unconfined', `lxc.mount.fstab = ${dir}/fstab`, 'lxc.uts.name = p1', '# Network configuration', 'lxc.net.0.type = empty'];
    const at = order.map((l) => config.split('\n').indexOf(l));
    assert.ok(at.every((i, n) => i >= 0 && (n === 0 || i > at[n - 1]!)), config);
    assert.not.ok(config.includes('lxc.idmap'));
    assert.is(await readFile(join(dir, 'fstab'), 'utf8'), '# for p1\ntmpfs mnt tmpfs defaults 0 0\n');
    assert.is(await readFile(join(dir, 'rootfs/etc/motd'), 'utf8'), `welcome to p1 in ${dir}\n`);
    assert.ok(existsSync(join(dir, 'rootfs/etc/only-privileged')));
    assert.ok((await stat(join(dir, 'rootfs/dev/pts'))).isDirectory());
    const run = await lxkitIn(s, 'execute', '-n', 'p1', '--', 'sh', '-c', 'hostname; cat /etc/hostname; echo "$IMAGE_OF"; grep -c " /mnt tmpfs" /proc/mounts');
    assert.is(run.exitCode, 0, run.stderr);
    assert.is(run.stdout, 'p1\np1\np1\n1');
  });
});

test("an unprivileged container (the default): the -user config and excludes, root inside mapped, the image's owners kept", async () => {
  await withScratch(async (s) => {
    const img = await imageIn(s);
    const r = await lxkitIn(s, 'create', '-n', 'u1', '-f', await defaultConfig(s), '-t', 'local', '--', '-m', img.meta, '-f', img.fstree);
    assert.is(r.exitCode, 0, r.stderr);
    const dir = join(s.lxcpath, 'u1');
    const config = await readFile(join(dir, 'config'), 'utf8');
    assert.match(config, /# the image, unprivileged\n/);
    assert.match(config, /^lxc\.idmap = u 0 \d+ \d+$/m);
    assert.not.ok(existsSync(join(dir, 'rootfs/etc/only-privileged')), 'excludes-user applied');
    const run = await lxkitIn(s, 'execute', '-n', 'u1', '--', 'sh', '-c', 'echo "$IMAGE_MODE"; cat /proc/self/uid_map; stat -c "%u %g" /etc/passwd /bin/busybox');
    assert.is(run.exitCode, 0, run.stderr);
    const [mode, map, ...owners] = run.stdout.split('\n');
    assert.is(mode, 'user');
    assert.match(map!, /^\s*0\s+[1-9]\d*\s+\d+$/);
    assert.equal(owners, ['0 0', '0 0']);
  });
});

/** `uid:gid` of each path on the host. */
const owners = async (paths: readonly string[]) => (await execa('stat', ['-c', '%u:%g', ...paths])).stdout.split('\n');

test("a user other than root: the rootfs unpacked as root of the container's user namespace (the image's owners), the templated files written there; --privileged refused; it runs and is destroyed", async () => {
  // newuidmap reads /etc/subuid and /etc/subgid only: nobody gets a range there for the test.
  await withSubordinateIds('nobody:300000:65536', () =>
    withScratch(async (s) => {
      const img = await imageIn(s);
      const asNobody = await asNobodyIn(s);
      const refused = await asNobody(['create', '-n', 'n0', '-t', 'local', '--', '-m', img.meta, '-f', img.fstree, '--privileged']);
      assert.is(refused.exitCode, 1);
      assert.match(refused.stderr, /template "local" failed for container "n0": a privileged container is root's to make: a user other than root makes unprivileged ones \(leave out --privileged\)/);
      assert.not.ok(existsSync(join(s.lxcpath, 'n0')), 'nothing left');

      const r = await asNobody(['create', '-n', 'n1', '-t', 'local', '--', '-m', img.meta, '-f', img.fstree]);
      assert.is(r.exitCode, 0, r.stderr);
      assert.is(r.stdout, 'Made from the test image.');
      const dir = join(s.lxcpath, 'n1');
      assert.match(await readFile(join(dir, 'config'), 'utf8'), /^lxc\.idmap = u 0 300000 65536\nlxc\.idmap = g 0 300000 65536$/m);
      const rootfs = join(dir, 'rootfs');
      assert.equal(await owners([rootfs, join(rootfs, 'bin/busybox'), join(rootfs, 'etc/motd'), join(rootfs, 'dev/pts')]), Array(4).fill('300000:300000'));
      assert.is(await readFile(join(rootfs, 'etc/motd'), 'utf8'), `welcome to n1 in ${dir}\n`);
      assert.not.ok(existsSync(join(rootfs, 'etc/only-privileged')), 'excludes-user applied');
      const run = await asNobody(['execute', '-n', 'n1', '--', 'sh', '-c', 'cat /etc/hostname; echo "$IMAGE_MODE"; stat -c "%u %g" / /etc/motd /bin/busybox']);
      assert.is(run.exitCode, 0, run.stderr);
      assert.equal(run.stdout.split('\n'), ['n1', 'user', '0 0', '0 0', '0 0']);
      const destroyed = await asNobody(['destroy', '-n', 'n1']);
      assert.is(destroyed.exitCode, 0, destroyed.stderr);
      assert.not.ok(existsSync(dir), 'everything removed');
    }),
  );
});

test('bad input: no image, a missing tarball, metadata without a config — a clear error and no container left', async () => {
  await withScratch(async (s) => {
    const empty = join(s.dir, 'empty-meta');
    await mkdir(empty);
    await writeFile(join(empty, 'fstab'), '\n');
    const emptyTar = join(s.dir, 'empty-meta.tar.xz');
    await execa('tar', ['-cJf', emptyTar, '-C', empty, 'fstab']);
    const cases: [string[], RegExp][] = [
      [[], /the image is needed: -- -m METADATA-TARBALL -f ROOTFS-TARBALL/],
      [['-m', join(s.dir, 'nope.tar.xz'), '-f', emptyTar], /no such file: .*nope\.tar\.xz/],
      [['-m', emptyTar, '-f', emptyTar], /holds no config file/],
    ];
    for (const [args, message] of cases) {
      const r = await lxkitIn(s, 'create', '-n', 'bad', '-t', 'local', '--', ...args);
      assert.is(r.exitCode, 1, args.join(' '));
      assert.match(r.stderr, /template "local" failed for container "bad"/);
      assert.match(r.stderr, message);
      assert.not.ok(existsSync(join(s.lxcpath, 'bad')), 'nothing left');
    }
  });
});

/** Key lines in order, without the blanks and comments. */
const keyLines = (config: string) =>
  config
    .split('\n')
    .filter((l) => /^\s*lxc\./.test(l))
    .map((l) => l.trim());

/** Every path of a tree with its owner, group, mode and, for files, content. */
async function tree(root: string): Promise<string> {
  return (await execa('find', [root, '-printf', '%P %U %G %m %y %l\n'])).stdout.split('\n').sort().join('\n');
}

testIf(test, existsSync(LXC_LOCAL) ? undefined : `${LXC_LOCAL} is not installed (Debian's lxc package)`, "the same image, including LXC's common.conf as real images do, through LXC's lxc-local: the same config keys in the same order, the same files", async () => {
  await withScratch(async (s) => {
    const img = await imageIn(s, { lxcCommon: true });
    const base = await defaultConfig(s);
    const ours = await lxkitIn(s, 'create', '-n', 'same', '-f', base, '-t', 'local', '--', '-m', img.meta, '-f', img.fstree, '--privileged');
    assert.is(ours.exitCode, 0, ours.stderr);
    const lxcpath = join(s.dir, 'lxc-made');
    await mkdir(lxcpath);
    await withLxcPivotCleanup(async () => {
      const theirs = await execa('lxc-create', ['-P', lxcpath, '-n', 'same', '-f', base, '-t', LXC_LOCAL, '--', '-m', img.meta, '-f', img.fstree], { reject: false, all: true });
      assert.is(theirs.exitCode, 0, theirs.all);
      assert.match(theirs.all ?? '', /Made from the test image\./);
    });
    const [a, b] = await Promise.all([join(s.lxcpath, 'same'), join(lxcpath, 'same')].map((d) => readFile(join(d, 'config'), 'utf8')));
    assert.match(a!, /^lxc\.include = \/usr\/share\/lxc\/config\/common\.conf$/m);
    assert.equal(keyLines(a!).map((l) => l.replaceAll(s.lxcpath, 'LXCPATH')), keyLines(b!).map((l) => l.replaceAll(lxcpath, 'LXCPATH')));
    assert.is(await tree(join(s.lxcpath, 'same/rootfs')), await tree(join(lxcpath, 'same/rootfs')));
    for (const f of ['rootfs/etc/hostname', 'fstab']) {
      const [x, y] = await Promise.all([readFile(join(s.lxcpath, 'same', f), 'utf8'), readFile(join(lxcpath, 'same', f), 'utf8')]);
      assert.is(x, y, f);
    }
    assert.is((await readFile(join(s.lxcpath, 'same/rootfs/etc/motd'), 'utf8')).replace(s.lxcpath, 'LXCPATH'), (await readFile(join(lxcpath, 'same/rootfs/etc/motd'), 'utf8')).replace(lxcpath, 'LXCPATH'));
    await execa('lxc-destroy', ['-P', lxcpath, '-n', 'same'], { reject: false });
    assert.equal(await readdir(lxcpath), []);
  });
});

test.run();
