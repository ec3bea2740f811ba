/**
 * @kernel-vm
 *
 * Checkpoint and restore of containers on storage that is mounted for them:
 * an overlay, a loop file, a logical volume. criu restores onto a directory
 * of the host, which the core mounts for the restore: each container goes to
 * disk and back with the same processes, on its own storage, with what it
 * wrote, and nothing is left of the restore's mount (nor a loop device). A
 * file of its own: with them, checkpoint.test.ts took almost 5 of the VM's 8
 * minutes per file.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { needs } from '../lib/features.js';
import { withVg } from '../lib/lvm.js';
import { containerCgroups, hostMounts, lxkitIn, testIf, until, withScratch, type Scratch } from '../lib/harness.js';
import { attach, CARRIED, processes, state } from '../lib/checkpoint.js';

const t = suite('checkpoint-storage');

/** A container made with `create` (a storage type's options) goes to disk and back: same processes, its files, its storage's mount, nothing left of the restore's own mount. */
async function storageRoundTrip(s: Scratch, name: string, create: readonly string[], fstype: string): Promise<void> {
  const made = await lxkitIn(s, 'create', '-n', name, '-t', 'busybox', ...create, '--', '--privileged');
  assert.is(made.exitCode, 0, made.stderr);
  await writeFile(join(s.lxcpath, name, 'config'), (await readFile(join(s.lxcpath, name, 'config'), 'utf8')) + CARRIED);
  const mounts = await hostMounts();
  assert.is((await lxkitIn(s, 'start', '-n', name)).exitCode, 0);
  const bg = await attach(s, name, "echo kept > /written; setsid /bin/sh -c 'while :; do sleep 0.1; done' </dev/null >/dev/null 2>&1 &");
  assert.is(bg.exitCode, 0, bg.stderr);
  const before = await processes(s, name);
  const dir = join(s.dir, 'ck');
  const ck = await lxkitIn(s, 'checkpoint', '-n', name, '-D', dir, '-s');
  assert.is(ck.exitCode, 0, ck.stderr);
  const r = await lxkitIn(s, 'checkpoint', '-n', name, '-D', dir, '-r');
  assert.is(r.exitCode, 0, r.stderr);
  assert.is(await processes(s, name), before, 'the same processes');
  const inside = await attach(s, name, "cat /written; grep ' / / ' /proc/self/mountinfo | sed 's/.* - \\([^ ]*\\) .*/\\1/'");
  assert.is(inside.stdout, `kept\n${fstype}`, 'on its own storage, with what it wrote');
  assert.equal(await hostMounts(), mounts, "the host's mount for criu is gone");
  assert.is((await lxkitIn(s, 'stop', '-n', name, '-k')).exitCode, 0);
  assert.equal(await containerCgroups([name]), []);
}

testIf(t, needs('criu'), 'an overlay container: the restore mounts its layers for criu and lets go of that mount once the restored processes hold their own', () =>
  withScratch((s) => storageRoundTrip(s, 'c5', ['-B', 'overlay'], 'overlay')),
);

testIf(t, needs('criu'), "a loop container: the restore lets go of the start's loop device, mounts the image for criu and lets go of that mount the same way; no loop device is left, nor after a restore that fails", () =>
  withScratch(async (s) => {
    const loops = async () => (await execa('losetup', ['--list', '--noheadings', '--output', 'BACK-FILE'])).stdout.split('\n').filter((l) => l.includes(s.dir));
    await storageRoundTrip(s, 'c7', ['-B', 'loop', '--fssize', '32M'], 'ext4');
    await until(async () => ((await loops()).length === 0 ? true : undefined), 5_000, 'no loop device of the container left');
    // A checkpoint criu cannot restore: the failure undoes the devices and the mount.
    const dir = join(s.dir, 'bogus');
    await mkdir(dir);
    await writeFile(join(dir, 'lxkit-checkpoint.json'), JSON.stringify({ container: 'c7', pid: 1 }));
    const failed = await lxkitIn(s, 'checkpoint', '-n', 'c7', '-r', '-D', dir);
    assert.is(failed.exitCode, 1);
    assert.is(await state(s, 'c7'), 'STOPPED');
    await until(async () => ((await loops()).length === 0 ? true : undefined), 5_000, 'no loop device left by the failed restore');
    assert.equal(await containerCgroups(['c7']), []);
  }),
);

testIf(t, needs('criu') ?? needs('device-mapper'), 'an lvm container: the restore mounts its volume for criu, and lets go of it the same way', () =>
  withVg({ thin: false }, (s, vg) => storageRoundTrip(s, 'c6', ['-B', 'lvm', '--vgname', vg, '--fssize', '48M'], 'ext4')),
);

t.run();
