/**
 * ZFS storage on a pool of the test's own (OpenZFS, else zfs-fuse): create,
 * starts that mount the dataset and unmount it after, copies, snapshot
 * clones, lxkit snapshot and restore over clones, LXC's destroy of lxkit's
 * datasets, and refusals. Every test leaves no dataset, snapshot or mount.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { busyboxIn, hostMounts, lxkitIn, testIf, which, type Scratch } from '../lib/harness.js';
import { datasetsIn, withZfs, ZFS_MISSING, type ZfsScratch } from '../lib/zfs.js';

const t = suite('storage-zfs');

const LXC_MISSING = which('lxc-destroy') ? undefined : "Debian's lxc package is not installed (npm run setup installs it)";

const exec = (s: Scratch, name: string, ...cmd: string[]) => lxkitIn(s, 'execute', '-n', name, '--', ...cmd);
const create = (s: ZfsScratch, name: string, ...args: string[]) => lxkitIn(s, 'create', '-n', name, '-t', 'busybox', '-B', 'zfs', '--zfsroot', s.root, ...args);
const prop = async (dataset: string, p: string) => String((await execa('zfs', ['get', '-H', '-o', 'value', p, dataset])).stdout);
const mountsUnder = async (dir: string) => (await hostMounts()).filter((m) => m.startsWith(dir));
const cat = async (s: Scratch, name: string) => {
  const r = await exec(s, name, '/bin/cat', '/data');
  assert.is(r.exitCode, 0, `${name}: ${r.stderr}`);
  return r.stdout;
};

testIf(t, ZFS_MISSING, 'create -B zfs makes a noauto dataset at <dir>/rootfs as LXC does; a start mounts it and its end unmounts it (foreground, daemon, unprivileged); copy -a of it running; -B best picks zfs when the pool is there', () =>
  withZfs(async (s) => {
    const r = await create(s, 'z1', '--', '--privileged');
    assert.is(r.exitCode, 0, r.stderr);
    const ds = `${s.root}/z1`;
    assert.match(await readFile(join(s.lxcpath, 'z1', 'config'), 'utf8'), new RegExp(`^lxc\\.rootfs\\.path = zfs:${ds}$`, 'm'));
    assert.is(await prop(ds, 'mountpoint'), join(s.lxcpath, 'z1', 'rootfs'));
    assert.is(await prop(ds, 'canmount'), 'noauto');
    assert.is(await prop(ds, 'mounted'), 'no', 'the template left it unmounted');
    const run = await exec(s, 'z1', '/bin/sh', '-c', 'echo one > /data && hostname && grep " / " /proc/mounts | cut -d" " -f1');
    assert.is(run.exitCode, 0, run.stderr);
    assert.is(run.stdout, `z1\n${ds}`);
    assert.is(await prop(ds, 'mounted'), 'no', 'unmounted after a foreground run');
    assert.is((await lxkitIn(s, 'start', '-n', 'z1')).exitCode, 0);
    assert.is(await prop(ds, 'mounted'), 'yes', 'mounted while it runs');
    // -a copies the running container from its mounted dataset, which the copy leaves mounted.
    const live = await lxkitIn(s, 'copy', '-n', 'z1', '-N', 'z2', '-a');
    assert.is(live.exitCode, 0, live.stderr);
    assert.is(await prop(ds, 'mounted'), 'yes', 'still mounted for the running container');
    assert.is((await exec(s, 'z2', '/bin/cat', '/data')).stdout, 'one');
    assert.is((await lxkitIn(s, 'stop', '-n', 'z1', '-k')).exitCode, 0);
    assert.is(await prop(ds, 'mounted'), 'no', "the daemon's stop work unmounted it");
    // Unprivileged: the template shifts the files' owners into the container's range.
    const u = await create(s, 'u1');
    assert.is(u.exitCode, 0, u.stderr);
    const ids = await exec(s, 'u1', '/bin/sh', '-c', 'id -u && stat -c %u /bin/busybox && touch /made');
    assert.is(ids.exitCode, 0, ids.stderr);
    assert.is(ids.stdout, '0\n0');
    const best = await lxkitIn(s, 'create', '-n', 'b1', '-t', 'busybox', '-B', 'best', '--zfsroot', s.root);
    assert.is(best.exitCode, 0, best.stderr);
    assert.match(await readFile(join(s.lxcpath, 'b1', 'config'), 'utf8'), new RegExp(`^lxc\\.rootfs\\.path = zfs:${s.root}/b1$`, 'm'));
    for (const n of ['z2', 'z1', 'u1', 'b1']) assert.is((await lxkitIn(s, 'destroy', '-n', n)).exitCode, 0, n);
    assert.equal(await datasetsIn(s.pool), [`${s.root}`]);
    assert.equal(await mountsUnder(s.dir), []);
  }),
);

testIf(t, ZFS_MISSING, 'copy is a new dataset filled by rsync, copy -s a zfs clone; snapshots of two containers do not collide (LXC bug #2443); a restore and the destroy of an origin keep every clone (zfs promote)', () =>
  withZfs(async (s) => {
    for (const n of ['a', 'b']) {
      assert.is((await create(s, n, '--', '--privileged')).exitCode, 0);
      assert.is((await exec(s, n, '/bin/sh', '-c', `echo ${n}1 > /data`)).exitCode, 0);
      const snap = await lxkitIn(s, 'snapshot', '-n', n);
      assert.is(snap.exitCode, 0, snap.stderr);
    }
    for (const [n, extra] of [['copy', []], ['clone', ['-s']]] as const) {
      const r = await lxkitIn(s, 'copy', '-n', 'a', '-N', n, ...extra);
      assert.is(r.exitCode, 0, r.stderr);
      assert.is(await cat(s, n), 'a1');
    }
    const r = s.root;
    assert.equal((await datasetsIn(s.pool)).sort(), [
      r,
      `${r}/a`,
      `${r}/a@clone`,
      `${r}/a@snap0`,
      `${r}/a_snap0 ${r}/a@snap0`,
      `${r}/b`,
      `${r}/b@snap0`,
      `${r}/b_snap0 ${r}/b@snap0`,
      `${r}/clone ${r}/a@clone`,
      `${r}/copy`,
    ]);
    assert.match(await readFile(join(s.lxcpath, 'a', 'snaps', 'snap0', 'config'), 'utf8'), new RegExp(`^lxc\\.rootfs\\.path = zfs:${r}/a_snap0$`, 'm'));
    assert.equal(await mountsUnder(s.dir), [], 'no new dataset is left mounted');
    // A restore destroys a's dataset, which its snapshot and clone are cloned from.
    assert.is((await exec(s, 'a', '/bin/sh', '-c', 'echo a2 > /data')).exitCode, 0);
    const restore = await lxkitIn(s, 'snapshot', '-n', 'a', '-r', 'snap0');
    assert.is(restore.exitCode, 0, restore.stderr);
    assert.is(await cat(s, 'a'), 'a1');
    assert.is(await cat(s, 'clone'), 'a1');
    assert.equal((await lxkitIn(s, 'snapshot', '-n', 'a', '-L')).stdout.split(' ')[0], 'snap0');
    // The origin goes first; its clone and snapshot stay.
    assert.is((await lxkitIn(s, 'destroy', '-n', 'b')).exitCode, 1, 'b has a snapshot: refused without -s');
    assert.is((await lxkitIn(s, 'destroy', '-n', 'a', '-s')).exitCode, 0);
    assert.is(await cat(s, 'clone'), 'a1');
    assert.is((await lxkitIn(s, 'snapshot', '-n', 'b', '-r', 'snap0', '-N', 'b2')).exitCode, 0);
    assert.is(await cat(s, 'b2'), 'b1');
    for (const n of ['clone', 'copy', 'b2']) assert.is((await lxkitIn(s, 'destroy', '-n', n)).exitCode, 0, n);
    assert.is((await lxkitIn(s, 'destroy', '-n', 'b', '-s')).exitCode, 0);
    assert.equal(await datasetsIn(s.pool), [r], 'no dataset or snapshot left');
    assert.equal(await mountsUnder(s.dir), []);
  }),
);

testIf(t, ZFS_MISSING ?? LXC_MISSING, "lxc-destroy removes lxkit's datasets: a snapshot clone with the snapshot it was made from, then its origin", () =>
  // LXC itself cannot start a container on zfs-fuse (it mounts datasets with mount(2) type zfs, OpenZFS's only).
  withZfs(async (s) => {
    assert.is((await create(s, 'z1', '--', '--privileged')).exitCode, 0);
    assert.is((await lxkitIn(s, 'copy', '-n', 'z1', '-N', 'ours', '-s')).exitCode, 0);
    assert.equal(await datasetsIn(s.pool), [s.root, `${s.root}/ours ${s.root}/z1@ours`, `${s.root}/z1`, `${s.root}/z1@ours`]);
    for (const [n, left] of [['ours', [s.root, `${s.root}/z1`]], ['z1', [s.root]]] as const) {
      const d = await execa('lxc-destroy', ['-P', s.lxcpath, '-n', n], { reject: false });
      assert.is(d.exitCode, 0, String(d.stderr));
      assert.equal(await datasetsIn(s.pool), left);
      assert.not.ok(existsSync(join(s.lxcpath, n)));
    }
  }),
);

testIf(t, ZFS_MISSING, 'refusals name what is wrong and leave nothing: a missing dataset at start, a zfs snapshot of a dir container, a pool that does not exist, a dataset with mountpoint=none', () =>
  withZfs(async (s) => {
    await busyboxIn(s, 'd1');
    const snap = await lxkitIn(s, 'copy', '-n', 'd1', '-N', 'x', '-s', '-B', 'zfs');
    assert.is(snap.exitCode, 1);
    assert.match(snap.stderr, /cannot make a zfs snapshot of container "d1": its root filesystem is dir, not a zfs dataset/);
    assert.not.ok(existsSync(join(s.lxcpath, 'x')));
    const nopool = await lxkitIn(s, 'create', '-n', 'x', '-t', 'busybox', '-B', 'zfs', '--zfsroot', 'lxkit-no-such-pool/lxc');
    assert.is(nopool.exitCode, 1);
    assert.match(nopool.stderr, /making the zfs dataset lxkit-no-such-pool\/lxc\/x for container "x": zfs create .*/);
    assert.not.ok(existsSync(join(s.lxcpath, 'x')));
    assert.is((await create(s, 'z1', '--', '--privileged')).exitCode, 0);
    await execa('zfs', ['set', 'mountpoint=none', `${s.root}/z1`]);
    const none = await exec(s, 'z1', '/bin/true');
    assert.is(none.exitCode, 1);
    assert.match(none.stderr, new RegExp(`the zfs dataset ${s.root}/z1 of container "z1" has mountpoint=none`));
    await execa('zfs', ['destroy', `${s.root}/z1`]);
    const missing = await exec(s, 'z1', '/bin/true');
    assert.is(missing.exitCode, 1);
    assert.match(missing.stderr, new RegExp(`the root filesystem zfs:${s.root}/z1 of container "z1" does not exist \\(zfs has no dataset ${s.root}/z1\\)`));
    assert.is((await lxkitIn(s, 'destroy', '-n', 'z1')).exitCode, 0, 'a container whose dataset is gone can still be destroyed');
    assert.equal(await datasetsIn(s.pool), [s.root]);
    assert.equal(await mountsUnder(s.dir), []);
  }),
);

t.run();
