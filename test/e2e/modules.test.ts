/**
 * @kernel-vm
 *
 * CAP_SYS_MODULE in real containers: with sys_module dropped (LXC's
 * default) loading a kernel module fails with EPERM; kept, the kernel gets
 * past its capability check (an already loaded module: EEXIST). Seccomp
 * allows everything here so that the capability alone decides. Needs a
 * kernel that loads modules: the kernel-feature VM.
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { release } from 'node:os';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { needs } from '../lib/features.js';
import { busyboxIn, lxkitIn, testIf, withScratch } from '../lib/harness.js';

const t = suite('kernel modules and CAP_SYS_MODULE');

/** dummy.ko: loaded at the VM's boot, so inserting it again reaches EEXIST once the capability check passes. */
const DUMMY = `/lib/modules/${release()}/kernel/drivers/net/dummy.ko`;

testIf(t, needs('modules'), 'with sys_module dropped insmod fails with EPERM; kept, the kernel gets past the capability check (EEXIST)', async () => {
  assert.ok((await readFile('/proc/modules', 'utf8')).split('\n').some((l) => l.startsWith('dummy ')), 'dummy is loaded');
  await withScratch(async (s) => {
    const allowAll = join(s.dir, 'allow');
    await writeFile(allowAll, '2\ndenylist\n');
    for (const [name, caps, expected] of [
      ['mod1', 'lxc.cap.drop = sys_module\n', /Operation not permitted/],
      ['mod2', 'lxc.cap.drop =\n', /File exists/],
    ] as const) {
      const dir = await busyboxIn(s, name, `lxc.seccomp.profile = ${allowAll}\n${caps}`);
      await copyFile(DUMMY, join(dir, 'rootfs/dummy.ko'));
      const r = await lxkitIn(s, 'execute', '-n', name, '--', 'insmod', '/dummy.ko');
      assert.is.not(r.exitCode, 0);
      assert.match(r.stderr + r.stdout, expected, `${name}: ${r.stderr}`);
    }
  });
});

t.run();
