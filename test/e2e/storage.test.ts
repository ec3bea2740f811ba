/**
 * Storage: the dir, overlay, btrfs and loop backends on real filesystems
 * (btrfs on a loop file of the test's own), lxkit copy and lxkit snapshot,
 * compared with LXC's lxc-copy and lxc-snapshot where LXC is installed.
 * Every test leaves no mount, loop device or subvolume behind.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { appendFile, chmod, mkdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { withLxcBusybox } from '../lib/lxc-busybox.js';
import { asNobodyIn, busyboxIn, hostMounts, lxkitIn, testIf, until, which, withLxcPivotCleanup, withScratch, withSubordinateIds, type Scratch } from '../lib/harness.js';

const t = suite('storage');

const LXC_MISSING = which('lxc-copy') && which('busybox') ? undefined : "Debian's lxc package or busybox is not installed (npm run setup installs them)";
const BTRFS_MISSING = !which('mkfs.btrfs') || !which('btrfs')
  ? 'btrfs-progs is not installed (npm run setup installs it)'
  : /\tbtrfs$/m.test(readFileSync('/proc/filesystems', 'utf8')) || spawnSync('modprobe', ['btrfs']).status === 0
    ? undefined
    : 'this kernel has no btrfs';

/** Loop devices backed by files below `dir` (none must be left). */
async function loopsUnder(dir: string): Promise<string[]> {
  const { stdout } = await execa('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE'], { reject: false });
  return String(stdout)
    .split('\n')
    .filter((l) => l.includes(dir));
}

/** Mount points below `dir` in the host's mount table. */
const mountsUnder = async (dir: string) => (await hostMounts()).filter((m) => m.startsWith(dir) || m.includes('lxkit-rootfs-'));

/** A btrfs filesystem on a loop file of its own, mounted at `<dir>/btrfs`, with the scratch lxcpath on it. */
async function withBtrfs(fn: (s: Scratch, mnt: string) => Promise<void>): Promise<void> {
  await withScratch(async (outer) => {
    const image = join(outer.dir, 'btrfs.img');
    const mnt = join(outer.dir, 'btrfs');
    await mkdir(mnt);
    await execa('truncate', ['-s', '384M', image]);
    await execa('mkfs.btrfs', ['-q', image]);
    await execa('mount', ['-o', 'loop', image, mnt]);
    try {
      const lxcpath = join(mnt, 'lxc');
      await fn({ ...outer, lxcpath }, mnt);
    } finally {
      await execa('umount', [mnt], { reject: false });
    }
    assert.equal(await loopsUnder(outer.dir), [], 'the btrfs loop device went with its mount');
  });
}

const subvolumes = async (mnt: string) =>
  String((await execa('btrfs', ['subvolume', 'list', '-o', mnt])).stdout)
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^.* path /, ''));

const exec = (s: Scratch, name: string, ...cmd: string[]) => lxkitIn(s, 'execute', '-n', name, '--', ...cmd);

t('overlay snapshot clone of a dir container (copy -s): the clone writes to its delta, the origin is refused by destroy until the clone goes; unprivileged (idmapped layers) and privileged', () =>
  withScratch(async (s) => {
    for (const [name, args] of [['u', []], ['p', ['--privileged']]] as const) {
      await busyboxIn(s, name, '', [...args]);
      const clone = `${name}-clone`;
      const r = await lxkitIn(s, 'copy', '-n', name, '-N', clone, '-s');
      assert.is(r.exitCode, 0, r.stderr);
      const config = await readFile(join(s.lxcpath, clone, 'config'), 'utf8');
      assert.match(config, new RegExp(`^lxc\\.rootfs\\.path = overlay:${s.lxcpath}/${name}/rootfs:${s.lxcpath}/${clone}/overlay/delta$`, 'm'));
      assert.match(config, new RegExp(`^lxc\\.uts\\.name = ${clone}$`, 'm'));
      assert.is(await readFile(join(s.lxcpath, name, 'lxc_snapshots'), 'utf8'), `${s.lxcpath}\n${clone}\n`);
      assert.is(await readFile(join(s.lxcpath, clone, 'lxc_rdepends'), 'utf8'), `${s.lxcpath}\n${name}\n`);
      const run = await exec(s, clone, '/bin/sh', '-c', 'echo changed > /etc/motd && hostname && stat -c %u /bin/busybox');
      assert.is(run.exitCode, 0, run.stderr);
      // Root's files are root's inside, through idmapped layers when unprivileged.
      assert.is(run.stdout, `${clone}\n0`);
      assert.is(await readFile(join(s.lxcpath, clone, 'overlay', 'delta', 'etc', 'motd'), 'utf8'), 'changed\n');
      assert.is.not(await readFile(join(s.lxcpath, name, 'rootfs', 'etc', 'motd'), 'utf8').catch(() => ''), 'changed\n', 'the origin is untouched');
      const refused = await lxkitIn(s, 'destroy', '-n', name);
      assert.is(refused.exitCode, 1);
      assert.match(refused.stderr, /snapshot clones use its root filesystem/);
      assert.is((await lxkitIn(s, 'destroy', '-n', clone)).exitCode, 0);
      assert.not.ok(existsSync(join(s.lxcpath, name, 'lxc_snapshots')), 'the origin no longer lists it');
      assert.is((await lxkitIn(s, 'destroy', '-n', name)).exitCode, 0);
    }
    assert.equal(await mountsUnder(s.dir), []);
  }),
);

testIf(t, LXC_MISSING, 'copy -s writes what lxc-copy -s writes (rootfs value, records), and each starts the other\'s clone', () =>
  withLxcBusybox(async (c) => {
    await c.configure('');
    const where = ['-P', c.s.lxcpath];
    try {
      await execa('lxc-copy', [...where, '-n', c.name, '-N', 'theirs', '-s']);
      const r = await lxkitIn(c.s, 'copy', '-n', c.name, '-N', 'ours', '-s');
      assert.is(r.exitCode, 0, r.stderr);
      const rootfsOf = async (n: string) => /^lxc\.rootfs\.path = (.*)$/m.exec(await readFile(join(c.s.lxcpath, n, 'config'), 'utf8'))![1]!.replace(`/${n}/`, '/NAME/');
      assert.is(await rootfsOf('ours'), await rootfsOf('theirs'));
      assert.is(await readFile(join(c.s.lxcpath, c.name, 'lxc_snapshots'), 'utf8'), `${c.s.lxcpath}\ntheirs\n${c.s.lxcpath}\nours\n`);
      for (const n of ['ours', 'theirs']) {
        const lxc = await execa('lxc-execute', [...where, '-n', n, '--', '/bin/sh', '-c', 'test -x /bin/busybox && hostname'], { reject: false });
        assert.is(lxc.exitCode, 0, `lxc-execute ${n}: ${String(lxc.stderr)}`);
        assert.is(String(lxc.stdout).trim(), n);
        const ours = await exec(c.s, n, '/bin/sh', '-c', 'hostname');
        assert.is(ours.exitCode, 0, ours.stderr);
        assert.is(ours.stdout, n);
      }
      // LXC's destroy takes lxkit's clone off the list, lxkit's takes LXC's.
      assert.is((await execa('lxc-destroy', [...where, '-n', 'ours'], { reject: false })).exitCode, 0);
      assert.is((await lxkitIn(c.s, 'destroy', '-n', 'theirs')).exitCode, 0);
      assert.not.ok(existsSync(join(c.s.lxcpath, c.name, 'lxc_snapshots')));
    } finally {
      for (const n of ['ours', 'theirs']) await execa('lxc-destroy', [...where, '-n', n], { reject: false });
    }
  }),
);

t('a full copy (rsync) keeps the files and their owners; -K keeps the name, -M the hwaddr, others get new ones; hook scripts and the fstab in the directory go along', () =>
  withScratch(async (s) => {
    const dir = await busyboxIn(s, 'src', 'lxc.net.0.type = empty\nlxc.net.0.hwaddr = 00:16:3e:aa:bb:cc\n');
    await writeFile(join(dir, 'hook.sh'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    await writeFile(join(dir, 'fstab'), '');
    await writeFile(join(dir, 'config'), (await readFile(join(dir, 'config'), 'utf8')) + `lxc.hook.pre-start = ${dir}/hook.sh\nlxc.mount.fstab = ${dir}/fstab\n`);
    await writeFile(join(dir, 'rootfs', 'owned'), 'x');
    await execa('chown', ['1234:5678', join(dir, 'rootfs', 'owned')]);
    const r = await lxkitIn(s, 'copy', '-n', 'src', '-N', 'full');
    assert.is(r.exitCode, 0, r.stderr);
    const copy = join(s.lxcpath, 'full');
    const config = await readFile(join(copy, 'config'), 'utf8');
    assert.match(config, new RegExp(`^lxc\\.rootfs\\.path = dir:${copy}/rootfs$`, 'm'));
    assert.match(config, /^lxc\.uts\.name = full$/m);
    assert.match(config, /^lxc\.net\.0\.hwaddr = 00:16:3e:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/m);
    assert.not.match(config, /aa:bb:cc/);
    assert.match(config, new RegExp(`^lxc\\.hook\\.pre-start = ${copy}/hook\\.sh$`, 'm'));
    assert.match(config, new RegExp(`^lxc\\.mount\\.fstab = ${copy}/fstab$`, 'm'));
    assert.ok(statSync(join(copy, 'hook.sh')).mode & 0o100, 'the hook script came along, executable');
    const owned = statSync(join(copy, 'rootfs', 'owned'));
    assert.equal([owned.uid, owned.gid], [1234, 5678]);
    assert.is((await exec(s, 'full', '/bin/true')).exitCode, 0);
    const kept = await lxkitIn(s, 'copy', '-n', 'src', '-N', 'kept', '-K', '-M');
    assert.is(kept.exitCode, 0, kept.stderr);
    const keptConfig = await readFile(join(s.lxcpath, 'kept', 'config'), 'utf8');
    assert.match(keptConfig, /^lxc\.uts\.name = src$/m);
    assert.match(keptConfig, /^lxc\.net\.0\.hwaddr = 00:16:3e:aa:bb:cc$/m);
  }),
);

testIf(t, LXC_MISSING, "a copy's /etc/hostname says its new name, as lxc-copy writes it (-K and snapshots keep it); an /etc that leads out of the rootfs is left alone", () =>
  withScratch(async (s) => {
    const hostname = (name: string, path = 'rootfs') => readFile(join(s.lxcpath, name, path, 'etc/hostname'), 'utf8');
    await busyboxIn(s, 'src');
    for (const [name, args] of [['ours', []], ['kept', ['-K']], ['snap', ['-s']]] as const) {
      const r = await lxkitIn(s, 'copy', '-n', 'src', '-N', name, ...args);
      assert.is(r.exitCode, 0, r.stderr);
    }
    const theirs = await execa('lxc-copy', ['-P', s.lxcpath, '-n', 'src', '-N', 'theirs'], { reject: false, all: true });
    assert.is(theirs.exitCode, 0, theirs.all);
    assert.is(await hostname('ours'), 'ours', 'the name alone, as LXC writes it');
    assert.is(await hostname('theirs'), 'theirs');
    assert.is(await hostname('kept'), 'src\n');
    assert.is(await hostname('snap', 'overlay/delta'), 'snap', 'written in the overlay snapshot\'s upper layer');
    assert.is(await hostname('src'), 'src\n', 'the source untouched');
    const run = await lxkitIn(s, 'execute', '-n', 'snap', '--', 'cat', '/etc/hostname');
    assert.is(run.stdout, 'snap');
    assert.equal(await mountsUnder(s.dir), [], 'nothing left mounted');

    // A source whose /etc is a link to a directory of the host's: the host's file stays as it was.
    const outside = join(s.dir, 'host-etc');
    await mkdir(outside);
    await writeFile(join(outside, 'hostname'), 'host\n');
    const linked = await busyboxIn(s, 'linked');
    await execa('rm', ['-rf', join(linked, 'rootfs/etc')]);
    await execa('ln', ['-s', outside, join(linked, 'rootfs/etc')]);
    const r = await lxkitIn(s, 'copy', '-n', 'linked', '-N', 'linked2');
    assert.is(r.exitCode, 0, r.stderr);
    assert.ok(existsSync(join(s.lxcpath, 'linked2/rootfs/etc')), 'the copy has its link');
    assert.is(await readFile(join(outside, 'hostname'), 'utf8'), 'host\n');
    await execa('lxc-destroy', ['-P', s.lxcpath, '-n', 'theirs'], { reject: false });
  }),
);

t("a user other than root copies its unprivileged container: the files copied in a user namespace with the container's maps (owners kept), the copy's /etc/hostname written there; the copy runs", () =>
  withSubordinateIds('nobody:300000:65536', () =>
    withScratch(async (s) => {
      const asNobody = await asNobodyIn(s);
      assert.is((await asNobody(['create', '-n', 'u', '-t', 'busybox'])).exitCode, 0);
      const r = await asNobody(['copy', '-n', 'u', '-N', 'u2']);
      assert.is(r.exitCode, 0, r.stderr);
      const rootfs = join(s.lxcpath, 'u2/rootfs');
      assert.is(await readFile(join(rootfs, 'etc/hostname'), 'utf8'), 'u2');
      const owners = (await execa('stat', ['-c', '%u:%g', rootfs, join(rootfs, 'etc/hostname'), join(rootfs, 'etc/shadow'), join(rootfs, 'bin/busybox')])).stdout;
      assert.is(owners, Array(4).fill('300000:300000').join('\n'), "the container's root's, as in the source");
      assert.is(statSync(join(rootfs, 'etc/shadow')).mode & 0o777, statSync(join(s.lxcpath, 'u/rootfs/etc/shadow')).mode & 0o777, 'modes kept');
      const run = await asNobody(['execute', '-n', 'u2', '--', 'sh', '-c', 'hostname; cat /etc/hostname; echo; id -u']);
      assert.is(run.exitCode, 0, run.stderr);
      assert.is(run.stdout, 'u2\nu2\n0');
      for (const n of ['u', 'u2']) assert.is((await asNobody(['destroy', '-n', n])).exitCode, 0);
      assert.equal(readdirSync(s.lxcpath), []);
    }),
  ),
);

t("a user other than root snapshots its unprivileged container (an overlay): its upper and work directories are the container's root's, the copy's /etc/hostname is written in the upper layer (the overlay mounted in a user namespace that shows nothing on the host); the snapshot runs and writes", () =>
  withSubordinateIds('nobody:300000:65536', () =>
    withScratch(async (s) => {
      const asNobody = await asNobodyIn(s);
      assert.is((await asNobody(['create', '-n', 'u', '-t', 'busybox'])).exitCode, 0);
      const before = await hostMounts();
      const r = await asNobody(['copy', '-n', 'u', '-N', 'snap', '-s']);
      assert.is(r.exitCode, 0, r.stderr);
      assert.not.match(r.stderr, /left as it was/);
      const delta = join(s.lxcpath, 'snap/overlay/delta');
      assert.is(await readFile(join(delta, 'etc/hostname'), 'utf8'), 'snap', "in the snapshot's upper layer");
      assert.is((await execa('stat', ['-c', '%u:%g %a', join(delta, 'etc/hostname')])).stdout, `300000:300000 ${(statSync(join(s.lxcpath, 'u/rootfs/etc/hostname')).mode & 0o777).toString(8)}`, "owned by the container's root, its mode kept");
      assert.is(await readFile(join(s.lxcpath, 'u/rootfs/etc/hostname'), 'utf8'), 'u\n', 'the source untouched');
      assert.equal(await hostMounts(), before, 'nothing mounted on the host');
      // The upper and work directories are the container's root's (as LXC chowns them), so the snapshot is writable.
      assert.is((await execa('stat', ['-c', '%u:%g', delta, join(s.lxcpath, 'snap/overlay/work')])).stdout, '300000:300000\n300000:300000');
      const run = await asNobody(['execute', '-n', 'snap', '--', 'sh', '-c', 'cat /etc/hostname; echo written > /written']);
      assert.is(run.exitCode, 0, run.stderr);
      assert.is(run.stdout, 'snap');
      assert.is((await execa('stat', ['-c', '%u:%g', join(delta, 'written')])).stdout, '300000:300000', "the container's write in its upper layer");
      // -K keeps the name: nothing is written, so the upper layer stays empty.
      const kept = await asNobody(['copy', '-n', 'u', '-N', 'kept', '-s', '-K']);
      assert.is(kept.exitCode, 0, kept.stderr);
      assert.equal(readdirSync(join(s.lxcpath, 'kept/overlay/delta')), []);
      for (const n of ['snap', 'kept', 'u']) assert.is((await asNobody(['destroy', '-n', n])).exitCode, 0, n);
      assert.equal(readdirSync(s.lxcpath), []);
    }),
  ),
);

t("a user other than root: lxc.hook.clone scripts run as the container's root in a user namespace with its maps, on a dir copy and on an overlay snapshot (mounted there alone), with LXC's environment; a failing one leaves no copy", () =>
  withSubordinateIds('nobody:300000:65536', () =>
    withScratch(async (s) => {
      const asNobody = await asNobodyIn(s);
      const hook = join(s.dir, 'clone-hook.sh');
      await writeFile(
        hook,
        '#!/bin/sh\ntest -x "$LXC_ROOTFS_MOUNT/bin/busybox" || exit 3\necho "$(id -u) $* | $LXC_NAME $LXC_SRC_NAME $LXC_HOOK_TYPE" > "$LXC_ROOTFS_MOUNT/hooked"\n[ "$1" != fail ]\n',
      );
      await chmod(hook, 0o755);
      assert.is((await asNobody(['create', '-n', 'u', '-t', 'busybox'])).exitCode, 0);
      await appendFile(join(s.lxcpath, 'u/config'), `lxc.hook.version = 1\nlxc.hook.clone = ${hook}\n`);
      const before = await hostMounts();
      for (const [name, args, at] of [['d', [], 'd/rootfs'], ['o', ['-s'], 'o/overlay/delta']] as const) {
        const r = await asNobody(['copy', '-n', 'u', '-N', name, ...args, '--', 'one', 'two']);
        assert.is(r.exitCode, 0, r.stderr);
        const hooked = join(s.lxcpath, at, 'hooked');
        assert.is(await readFile(hooked, 'utf8'), `0 one two | ${name} u clone\n`, "run as root there, LXC's arguments and environment");
        assert.is((await execa('stat', ['-c', '%u:%g', hooked])).stdout, '300000:300000', "written as the container's root");
        assert.is(await readFile(join(s.lxcpath, at, 'etc/hostname'), 'utf8'), name);
      }
      assert.equal(await hostMounts(), before, 'nothing mounted on the host');
      const failed = await asNobody(['copy', '-n', 'u', '-N', 'f', '-s', '--', 'fail']);
      assert.is(failed.exitCode, 1);
      assert.match(failed.stderr, /running the clone hook .*clone-hook\.sh.*status 1/, failed.stderr);
      assert.not.ok(existsSync(join(s.lxcpath, 'f')), 'no copy left');
      for (const n of ['o', 'd', 'u']) assert.is((await asNobody(['destroy', '-n', n])).exitCode, 0, n);
      assert.equal(readdirSync(s.lxcpath), []);
    }),
  ),
);

t('copy refusals name what is wrong and leave nothing: an existing name, a running source (copied with -a), an overlay copy without -s, an unknown type', () =>
  withScratch(async (s) => {
    await busyboxIn(s, 'a');
    await busyboxIn(s, 'b');
    const before = readdirSync(s.lxcpath).sort();
    const cases: [string[], RegExp][] = [
      [['-N', 'b'], /container "b" already exists/],
      [['-N', 'c', '-B', 'overlay'], /overlay storage makes only snapshots \(-s\)/],
      [['-N', 'c', '-B', 'rbd'], /storage type "rbd" is not available/],
      [['-N', 'c', '-B', 'nosuch'], /"nosuch" is not a storage type/],
    ];
    for (const [args, why] of cases) {
      const r = await lxkitIn(s, 'copy', '-n', 'a', ...args);
      assert.is.not(r.exitCode, 0, args.join(' '));
      assert.match(r.stderr, why);
    }
    assert.is((await lxkitIn(s, 'start', '-n', 'a')).exitCode, 0);
    const busy = await lxkitIn(s, 'copy', '-n', 'a', '-N', 'c');
    assert.is(busy.exitCode, 1);
    assert.match(busy.stderr, /cannot copy container "a": it is running/);
    assert.equal(readdirSync(s.lxcpath).sort(), before, 'nothing made');
    // -a copies it as it is, running.
    assert.is((await lxkitIn(s, 'attach', '-n', 'a', '--', '/bin/sh', '-c', 'echo live > /live')).exitCode, 0);
    const live = await lxkitIn(s, 'copy', '-n', 'a', '-N', 'c', '-a');
    assert.is(live.exitCode, 0, live.stderr);
    assert.is((await exec(s, 'c', '/bin/cat', '/live')).stdout, 'live');
    assert.is((await lxkitIn(s, 'stop', '-n', 'a', '-k')).exitCode, 0);
    assert.is((await lxkitIn(s, 'destroy', '-n', 'c')).exitCode, 0);
  }),
);

t("lxc.hook.clone scripts run with LXC's environment and the arguments after --, before the new /etc/hostname is written; an overlay snapshot is mounted in a mount namespace of their own, not on the host; a failing one leaves no copy", () =>
  withScratch(async (s) => {
    const out = join(s.dir, 'clone-hook.out');
    const hook = join(s.dir, 'clone-hook.sh');
    // Where the rootfs is mounted: in the hook's mount table, not in the host's (init's); what it sees in /etc/hostname, then writes there.
    await writeFile(
      hook,
      [
        '#!/bin/sh',
        `mounted() { awk -v m="$LXC_ROOTFS_MOUNT" '$5 == m' "$1" | wc -l; }`,
        `echo "$* | $LXC_NAME $LXC_SRC_NAME $LXC_ROOTFS_PATH $LXC_HOOK_TYPE" > ${out}`,
        `echo "$(readlink /proc/self/ns/mnt) $(mounted /proc/self/mountinfo) $(mounted /proc/1/mountinfo) $(cat "$LXC_ROOTFS_MOUNT/etc/hostname")" >> ${out}`,
        'test -x "$LXC_ROOTFS_MOUNT/bin/busybox" || exit 3',
        'echo from-the-hook > "$LXC_ROOTFS_MOUNT/etc/hostname"',
        '[ "$1" != fail ]',
        '',
      ].join('\n'),
    );
    await chmod(hook, 0o755);
    await busyboxIn(s, 'src', `lxc.hook.version = 1\nlxc.hook.clone = ${hook}\n`);
    const host = await readlink('/proc/self/ns/mnt');
    const r = await lxkitIn(s, 'copy', '-n', 'src', '-N', 'dst', '-s', '--', 'one', 'two');
    assert.is(r.exitCode, 0, r.stderr);
    const [line, seen] = (await readFile(out, 'utf8')).split('\n');
    assert.is(line, `one two | dst src ${s.lxcpath}/src/rootfs:${s.lxcpath}/dst/overlay/delta clone`);
    const [ns, inOwn, inHost, hostname] = seen!.split(' ');
    assert.ok(ns !== host, `the hook runs in a mount namespace of its own (${ns}), not the host's (${host})`);
    assert.is(inOwn, '1', 'the snapshot is mounted at LXC_ROOTFS_MOUNT there');
    assert.is(inHost, '0', 'and not on the host');
    assert.is(hostname, 'src', 'the hook runs before /etc/hostname is rewritten');
    assert.is(await readFile(join(s.lxcpath, 'dst/overlay/delta/etc/hostname'), 'utf8'), 'dst', "then LXC's write replaces the hook's");
    assert.is(await readFile(join(s.lxcpath, 'src/rootfs/etc/hostname'), 'utf8'), 'src\n', 'the source is untouched');

    // A dir copy is edited where it is, in the host's mount namespace, also in LXC's order.
    assert.is((await lxkitIn(s, 'copy', '-n', 'src', '-N', 'full')).exitCode, 0);
    assert.is((await readFile(out, 'utf8')).split('\n')[1]!.split(' ')[3], 'src');
    assert.is(await readFile(join(s.lxcpath, 'full/rootfs/etc/hostname'), 'utf8'), 'full');

    const failed = await lxkitIn(s, 'copy', '-n', 'src', '-N', 'dst2', '-s', '--', 'fail');
    assert.is(failed.exitCode, 1);
    assert.match(failed.stderr, /lxc\.hook\.clone .*clone-hook\.sh fail exited with status 1/);
    assert.not.ok(existsSync(join(s.lxcpath, 'dst2')), 'no copy left');
    assert.is(await readFile(join(s.lxcpath, 'src', 'lxc_snapshots'), 'utf8'), `${s.lxcpath}\ndst\n`, 'the failed one is not listed');
    assert.equal(await mountsUnder(s.dir), []);
  }),
);

testIf(t, LXC_MISSING, 'snapshots: lxkit snapshot and lxc-snapshot list each other\'s (same lines, comments with -C), a restore over the container keeps its snapshots, -N restores as a new one, -d destroys one', () =>
  withLxcBusybox(async (c) => {
    await c.configure('');
    const comment = join(c.s.dir, 'comment');
    await writeFile(comment, 'before the change\n');
    const taken = await lxkitIn(c.s, 'snapshot', '-n', c.name, '-c', comment);
    assert.is(taken.exitCode, 0, taken.stderr);
    await execa('lxc-snapshot', ['-P', c.s.lxcpath, '-n', c.name]);
    const ts = await readFile(join(c.s.lxcpath, c.name, 'snaps', 'snap0', 'ts'), 'utf8');
    assert.match(ts, /^\d{4}:\d{2}:\d{2} \d{2}:\d{2}:\d{2}$/);
    const theirs = String((await execa('lxc-snapshot', ['-P', c.s.lxcpath, '-n', c.name, '-L', '-C'])).stdout);
    const ours = await lxkitIn(c.s, 'snapshot', '-n', c.name, '-L', '-C');
    assert.is(ours.exitCode, 0, ours.stderr);
    assert.is(ours.stdout, theirs.trim());
    assert.match(ours.stdout, new RegExp(`^snap0 \\(${c.s.lxcpath}/${c.name}/snaps\\) ${ts}\nbefore the change\nsnap1 `));
    await writeFile(join(c.rootfs, 'changed'), 'x');
    const restored = await lxkitIn(c.s, 'snapshot', '-n', c.name, '-r', 'snap0');
    assert.is(restored.exitCode, 0, restored.stderr);
    assert.not.ok(existsSync(join(c.rootfs, 'changed')), 'the rootfs is the snapshot\'s again');
    assert.ok(existsSync(join(c.rootfs, 'bin', 'busybox')));
    assert.match(await readFile(join(c.s.lxcpath, c.name, 'config'), 'utf8'), new RegExp(`^lxc\\.rootfs\\.path = dir:${c.rootfs}$`, 'm'));
    assert.match((await lxkitIn(c.s, 'snapshot', '-n', c.name, '-L')).stdout, /^snap0 .*\nsnap1 /, 'its snapshots stay');
    const asNew = await lxkitIn(c.s, 'snapshot', '-n', c.name, '-r', 'snap1', '-N', 'again');
    assert.is(asNew.exitCode, 0, asNew.stderr);
    assert.is((await exec(c.s, 'again', '/bin/sh', '-c', 'hostname')).stdout, 'again');
    assert.is((await lxkitIn(c.s, 'snapshot', '-n', c.name, '-d', 'snap1')).exitCode, 0);
    assert.match(String((await execa('lxc-snapshot', ['-P', c.s.lxcpath, '-n', c.name, '-L'])).stdout), /^snap0 [^\n]*$/);
    const missing = await lxkitIn(c.s, 'snapshot', '-n', c.name, '-r', 'snap7');
    assert.is(missing.exitCode, 1);
    assert.match(missing.stderr, /container "bb" has no snapshot "snap7"/);
    assert.is((await lxkitIn(c.s, 'destroy', '-n', 'again')).exitCode, 0);
    assert.is((await lxkitIn(c.s, 'destroy', '-n', c.name, '-s')).exitCode, 0);
  }),
);

testIf(t, BTRFS_MISSING, 'btrfs: -B best makes a subvolume on a btrfs lxcpath; copy and copy -s are subvolume snapshots, lxkit snapshot too; a restore; destroy deletes them all', () =>
  withBtrfs(async (s, mnt) => {
    const r = await lxkitIn(s, 'create', '-n', 'b1', '-t', 'busybox', '-B', 'best');
    assert.is(r.exitCode, 0, r.stderr);
    assert.match(await readFile(join(s.lxcpath, 'b1', 'config'), 'utf8'), new RegExp(`^lxc\\.rootfs\\.path = btrfs:${s.lxcpath}/b1/rootfs$`, 'm'));
    assert.is((await exec(s, 'b1', '/bin/sh', '-c', 'echo one > /data')).exitCode, 0);
    for (const [n, extra] of [['b2', ['-s']], ['b3', []]] as const) {
      const copy = await lxkitIn(s, 'copy', '-n', 'b1', '-N', n, ...extra);
      assert.is(copy.exitCode, 0, copy.stderr);
      assert.match(await readFile(join(s.lxcpath, n, 'config'), 'utf8'), new RegExp(`^lxc\\.rootfs\\.path = btrfs:${s.lxcpath}/${n}/rootfs$`, 'm'));
      assert.is((await exec(s, n, '/bin/cat', '/data')).stdout, 'one');
    }
    assert.is((await lxkitIn(s, 'snapshot', '-n', 'b1')).exitCode, 0);
    assert.equal((await subvolumes(mnt)).sort(), ['lxc/b1/rootfs', 'lxc/b1/snaps/snap0/rootfs', 'lxc/b2/rootfs', 'lxc/b3/rootfs']);
    assert.is((await exec(s, 'b1', '/bin/sh', '-c', 'echo two > /data')).exitCode, 0);
    assert.is((await lxkitIn(s, 'snapshot', '-n', 'b1', '-r', 'snap0')).exitCode, 0);
    assert.is((await exec(s, 'b1', '/bin/cat', '/data')).stdout, 'one');
    const todir = await lxkitIn(s, 'copy', '-n', 'b1', '-N', 'd1', '-B', 'dir');
    assert.is(todir.exitCode, 0, todir.stderr);
    assert.is((await exec(s, 'd1', '/bin/cat', '/data')).stdout, 'one');
    for (const n of ['b2', 'b3', 'd1', 'b1']) assert.is((await lxkitIn(s, 'destroy', '-n', n, '-s')).exitCode, 0, n);
    assert.equal(await subvolumes(mnt), [], 'no subvolume left');
  }),
);

testIf(t, BTRFS_MISSING ?? LXC_MISSING, 'btrfs: lxkit runs and snapshots a container lxc-create -B btrfs made, and LXC runs lxkit\'s snapshot', () =>
  // LXC's start leaves its lxc.pivot cgroups behind: removed after.
  withLxcPivotCleanup(() => withBtrfs(async (s, mnt) => {
    await mkdir(s.lxcpath, { recursive: true });
    const where = ['-P', s.lxcpath];
    try {
      await execa('lxc-create', [...where, '-n', 'lb', '-t', 'busybox', '-B', 'btrfs']);
      const config = join(s.lxcpath, 'lb', 'config');
      await writeFile(config, (await readFile(config, 'utf8')).replace(/^lxc\.(net\.0|apparmor)\..*$/gm, '') + 'lxc.net.0.type = empty\n');
      assert.is((await exec(s, 'lb', '/bin/true')).exitCode, 0);
      const copy = await lxkitIn(s, 'copy', '-n', 'lb', '-N', 'lk', '-s');
      assert.is(copy.exitCode, 0, copy.stderr);
      const lxc = await execa('lxc-execute', [...where, '-n', 'lk', '--', '/bin/hostname'], { reject: false });
      assert.is(lxc.exitCode, 0, String(lxc.stderr));
      assert.is(String(lxc.stdout).trim(), 'lk');
      assert.is((await execa('lxc-destroy', [...where, '-n', 'lk'], { reject: false })).exitCode, 0);
      assert.is((await lxkitIn(s, 'destroy', '-n', 'lb')).exitCode, 0);
      assert.equal(await subvolumes(mnt), []);
    } finally {
      for (const n of ['lk', 'lb']) await execa('lxc-destroy', [...where, '-n', n], { reject: false });
    }
  })),
);

t('loop: create -B loop makes a sparse ext4 image; starts attach a loop device that goes with the container (foreground and daemon); copy makes a new image; destroy removes it', () =>
  withScratch(async (s) => {
    const r = await lxkitIn(s, 'create', '-n', 'l1', '-t', 'busybox', '-B', 'loop', '--fssize', '64M');
    assert.is(r.exitCode, 0, r.stderr);
    const image = join(s.lxcpath, 'l1', 'rootdev');
    assert.match(await readFile(join(s.lxcpath, 'l1', 'config'), 'utf8'), new RegExp(`^lxc\\.rootfs\\.path = loop:${image}$`, 'm'));
    const st = statSync(image);
    assert.is(st.size, 64 * 1024 * 1024);
    assert.ok(st.blocks * 512 < st.size, 'sparse');
    assert.is(String((await execa('blkid', ['-o', 'value', '-s', 'TYPE', image])).stdout), 'ext4');
    const run = await exec(s, 'l1', '/bin/sh', '-c', 'echo kept > /data && grep " / " /proc/mounts | cut -d" " -f3');
    assert.is(run.exitCode, 0, run.stderr);
    assert.is(run.stdout, 'ext4');
    await until(async () => ((await loopsUnder(s.dir)).length === 0 ? true : undefined), 3000, 'the loop device to go with the container');
    assert.is((await lxkitIn(s, 'start', '-n', 'l1')).exitCode, 0);
    assert.is((await loopsUnder(s.dir)).length, 1, 'one loop device while it runs');
    assert.is((await lxkitIn(s, 'stop', '-n', 'l1', '-k')).exitCode, 0);
    // The kernel lets go of an autoclear device a moment after the last mount of it goes.
    await until(async () => ((await loopsUnder(s.dir)).length === 0 ? true : undefined), 3000, 'the loop device to go after the stop');
    const copy = await lxkitIn(s, 'copy', '-n', 'l1', '-N', 'l2');
    assert.is(copy.exitCode, 0, copy.stderr);
    assert.is((await exec(s, 'l2', '/bin/cat', '/data')).stdout, 'kept');
    const snap = await lxkitIn(s, 'copy', '-n', 'l1', '-N', 'l3', '-s');
    assert.is(snap.exitCode, 1);
    assert.match(snap.stderr, /storage type "loop" makes no snapshots/);
    for (const n of ['l1', 'l2']) assert.is((await lxkitIn(s, 'destroy', '-n', n)).exitCode, 0);
    assert.not.ok(existsSync(image));
    assert.equal(await loopsUnder(s.dir), []);
    assert.equal(await mountsUnder(s.dir), []);
  }),
);

t('create -B refusals: btrfs off btrfs, and a storage type no plugin provides, leave nothing', () =>
  withScratch(async (s) => {
      for (const [type, why] of [
        ['btrfs', /is not on a btrfs filesystem/],
        ['rbd', /storage type "rbd" is not available/],
      ] as const) {
        const r = await lxkitIn(s, 'create', '-n', 'x', '-t', 'busybox', '-B', type);
        assert.is(r.exitCode, 1, type);
        assert.match(r.stderr, why);
        assert.not.ok(existsSync(join(s.lxcpath, 'x')), `${type}: nothing left`);
      }
    }),
);

t.run();
