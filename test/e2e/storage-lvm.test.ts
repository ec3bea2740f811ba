/**
 * @kernel-vm
 *
 * LVM storage on a volume group of the test's own (a loop device in the
 * kernel-feature VM, which has device-mapper): classic and thin logical
 * volumes, their snapshots, copies, restores, and the refusals that keep a
 * classic snapshot from losing its origin. Every test leaves no logical
 * volume, volume group or loop device. Where LVM is missing only the
 * refusal that needs no volume group runs.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { needs } from '../lib/features.js';
import { lxkitIn, testIf, withScratch, type Scratch } from '../lib/harness.js';
import { withVg } from '../lib/lvm.js';

const t = suite('storage-lvm');

const exec = (s: Scratch, name: string, ...cmd: string[]) => lxkitIn(s, 'execute', '-n', name, '--', ...cmd);
const cat = async (s: Scratch, name: string) => {
  const r = await exec(s, name, '/bin/cat', '/data');
  assert.is(r.exitCode, 0, `${name}: ${r.stderr}`);
  return r.stdout;
};

/** Logical volumes of `vg` as `name [origin] attr[0]` (o origin, s classic snapshot, V thin volume, t thin pool, - plain), sorted. */
async function volumes(vg: string): Promise<string[]> {
  const { stdout } = await execa('lvs', ['--noheadings', '--separator', ',', '-o', 'lv_name,origin,lv_attr', vg]);
  return String(stdout)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [name, origin, attr] = l.split(',');
      return `${name}${origin ? ` ${origin}` : ''} ${attr![0]}`;
    })
    .sort();
}


testIf(t, needs('device-mapper'), 'classic volumes: create -B lvm formats a volume the monitor mounts; lxkit snapshot is a classic snapshot, its origin refused by destroy while it lives; restore -N, copy (new volume + rsync); nothing left', () =>
  withVg({ thin: false }, async (s, vg) => {
    const r = await lxkitIn(s, 'create', '-n', 'c1', '-t', 'busybox', '-B', 'lvm', '--vgname', vg, '--fssize', '48M', '--', '--privileged');
    assert.is(r.exitCode, 0, r.stderr);
    assert.match(await readFile(join(s.lxcpath, 'c1', 'config'), 'utf8'), new RegExp(`^lxc\\.rootfs\\.path = lvm:/dev/${vg}/c1$`, 'm'));
    const run = await exec(s, 'c1', '/bin/sh', '-c', 'echo one > /data && grep " / " /proc/mounts | cut -d" " -f3');
    assert.is(run.exitCode, 0, run.stderr);
    assert.is(run.stdout, 'ext4');
    const snap = await lxkitIn(s, 'snapshot', '-n', 'c1');
    assert.is(snap.exitCode, 0, snap.stderr);
    assert.equal(await volumes(vg), ['c1 o', 'c1_snap0 c1 s']);
    assert.is((await exec(s, 'c1', '/bin/sh', '-c', 'echo two > /data')).exitCode, 0);
    // The origin of a classic snapshot cannot go first: nothing is removed.
    const refused = await lxkitIn(s, 'snapshot', '-n', 'c1', '-r', 'snap0');
    assert.is(refused.exitCode, 1);
    assert.match(refused.stderr, new RegExp(`the classic LVM snapshots /dev/${vg}/c1_snap0 live on it`));
    assert.is(await cat(s, 'c1'), 'two');
    const back = await lxkitIn(s, 'snapshot', '-n', 'c1', '-r', 'snap0', '-N', 'back');
    assert.is(back.exitCode, 0, back.stderr);
    assert.is(await cat(s, 'back'), 'one');
    const copy = await lxkitIn(s, 'copy', '-n', 'c1', '-N', 'c2');
    assert.is(copy.exitCode, 0, copy.stderr);
    assert.is(await cat(s, 'c2'), 'two');
    const snapOfSnap = await lxkitIn(s, 'copy', '-n', 'back', '-N', 'x', '-s');
    assert.is(snapOfSnap.exitCode, 0, 'back is a copy (a classic snapshot cannot be snapshotted), so it can be: ' + snapOfSnap.stderr);
    assert.equal(await volumes(vg), ['back o', 'c1 o', 'c1_snap0 c1 s', 'c2 -', 'x back s']);
    for (const n of ['x', 'back', 'c2']) assert.is((await lxkitIn(s, 'destroy', '-n', n)).exitCode, 0, n);
    assert.is((await lxkitIn(s, 'destroy', '-n', 'c1', '-s')).exitCode, 0);
    assert.equal(await volumes(vg), []);
  }),
);

testIf(t, needs('device-mapper'), 'thin volumes: create in the thin pool, copy -s and lxkit snapshot are thin snapshots (active, independent), a restore over the container, destroy of an origin with live snapshots', () =>
  withVg({ thin: true }, async (s, vg) => {
    const r = await lxkitIn(s, 'create', '-n', 't1', '-t', 'busybox', '-B', 'lvm', '--vgname', vg, '--thinpool', 'tp', '--fssize', '64M', '--', '--privileged');
    assert.is(r.exitCode, 0, r.stderr);
    assert.is((await exec(s, 't1', '/bin/sh', '-c', 'echo one > /data')).exitCode, 0);
    const clone = await lxkitIn(s, 'copy', '-n', 't1', '-N', 't2', '-s');
    assert.is(clone.exitCode, 0, clone.stderr);
    assert.is((await lxkitIn(s, 'snapshot', '-n', 't1')).exitCode, 0);
    assert.equal(await volumes(vg), ['t1 V', 't1_snap0 t1 V', 't2 t1 V', 'tp t']);
    assert.is(await cat(s, 't2'), 'one');
    assert.is((await exec(s, 't1', '/bin/sh', '-c', 'echo two > /data')).exitCode, 0);
    const restore = await lxkitIn(s, 'snapshot', '-n', 't1', '-r', 'snap0');
    assert.is(restore.exitCode, 0, restore.stderr);
    assert.is(await cat(s, 't1'), 'one');
    assert.is((await lxkitIn(s, 'destroy', '-n', 't1', '-s')).exitCode, 0);
    assert.is(await cat(s, 't2'), 'one', 'a thin snapshot outlives its origin');
    assert.is((await lxkitIn(s, 'destroy', '-n', 't2')).exitCode, 0);
    assert.equal(await volumes(vg), ['tp t']);
  }),
);

t('refusals name what is wrong and leave nothing: a volume group that does not exist, a dir container snapshotted as LVM; a container whose volume group is gone is destroyed', () =>
  withScratch(async (s) => {
    const r = await lxkitIn(s, 'create', '-n', 'x', '-t', 'busybox', '-B', 'lvm', '--vgname', 'lxkit-no-such-vg');
    assert.is(r.exitCode, 1);
    assert.match(r.stderr, /making the logical volume \/dev\/lxkit-no-such-vg\/x for container "x": (lvcreate .*|lvcreate is not installed)/);
    assert.not.ok(existsSync(join(s.lxcpath, 'x')));
    assert.is((await lxkitIn(s, 'create', '-n', 'd', '-t', 'busybox', '--', '--privileged')).exitCode, 0);
    const snap = await lxkitIn(s, 'copy', '-n', 'd', '-N', 'x', '-s', '-B', 'lvm');
    assert.is(snap.exitCode, 1);
    assert.match(snap.stderr, /cannot make an LVM snapshot of container "d": its root filesystem is dir, not a logical volume/);
    assert.not.ok(existsSync(join(s.lxcpath, 'x')));
    // A container whose volume group is gone can still be destroyed, with a warning.
    await writeFile(join(s.lxcpath, 'd', 'config'), 'lxc.rootfs.path = lvm:/dev/lxkit-no-such-vg/d\n');
    const gone = await lxkitIn(s, 'destroy', '-n', 'd', '-l', 'WARN');
    assert.is(gone.exitCode, 0, gone.stderr);
    assert.match(gone.stderr, /the logical volume \/dev\/lxkit-no-such-vg\/d of container "d" is gone already \(there is no volume group lxkit-no-such-vg\)/);
    assert.not.ok(existsSync(join(s.lxcpath, 'd')));
  }),
);

t.run();
