/** LVM fixtures of the tests' own (run in the kernel-feature VM, which has device-mapper). */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import * as assert from 'uvu/assert';
import { withScratch, type Scratch } from './harness.js';

/** A volume group of the test's own on a loop device, with a thin pool `tp` when asked; removed whatever happens. */
export async function withVg(o: { thin: boolean }, fn: (s: Scratch, vg: string) => Promise<void>): Promise<void> {
  await withScratch(async (s) => {
    const vg = `lxkitvm${process.pid}`;
    const file = join(s.dir, 'pv.img');
    await writeFile(file, '');
    await execa('truncate', ['-s', '320M', file]);
    const loop = String((await execa('losetup', ['--find', '--show', file])).stdout).trim();
    try {
      await execa('pvcreate', ['-q', loop]);
      await execa('vgcreate', ['-q', vg, loop]);
      if (o.thin) await execa('lvcreate', ['-q', '-y', '-Wn', '-L', '160M', '-T', `${vg}/tp`]);
      await fn(s, vg);
    } finally {
      await execa('vgremove', ['-q', '-f', vg], { reject: false });
      await execa('pvremove', ['-q', '-ff', '-y', loop], { reject: false });
      await execa('losetup', ['-d', loop], { reject: false });
    }
    assert.not.ok((await execa('dmsetup', ['ls'], { reject: false })).stdout.includes(vg), 'no device-mapper device left');
  });
}
