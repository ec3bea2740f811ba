/**
 * @kernel-vm
 *
 * The kernel-feature VM itself: that it boots as promised (pure unified
 * cgroups with every controller, AppArmor, the modules loaded), and the
 * features it exists for, each used for real — an LVM logical volume and a
 * classic snapshot of it on device-mapper, a VLAN link, criu's kernel check.
 * On a host without them these skip, naming what is missing.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { inKernelVm, missingFeature, needs, UNIFIED_CONTROLLERS, type KernelFeature } from '../lib/features.js';
import { testIf, withTmpDir } from '../lib/harness.js';

const t = suite('kernel-feature VM');

testIf(t, inKernelVm ? undefined : 'describes the kernel-feature VM itself (runs only there)', 'boots with every promised feature: pure unified cgroups, AppArmor, dm, 8021q, tun and diag modules', () => {
  for (const f of ['device-mapper', 'vlan', 'apparmor', 'cgroup2', 'modules'] as KernelFeature[]) assert.is(missingFeature(f), undefined, f);
  const available = readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').trim().split(' ');
  const enabled = readFileSync('/sys/fs/cgroup/cgroup.subtree_control', 'utf8').trim().split(' ');
  assert.equal(enabled.sort(), available.sort(), 'every controller enabled at the root');
  for (const c of UNIFIED_CONTROLLERS) assert.ok(available.includes(c), c);
  const modules = readFileSync('/proc/modules', 'utf8').split('\n').map((l) => l.split(' ')[0]);
  for (const m of ['dm_mod', 'dm_snapshot', 'dm_thin_pool', '8021q', 'tun', 'unix_diag', 'inet_diag', 'tcp_diag', 'udp_diag', 'netlink_diag', 'af_packet_diag']) {
    assert.ok(modules.includes(m), `module ${m} loaded`);
  }
  assert.match(readFileSync('/sys/kernel/security/lsm', 'utf8'), /apparmor/);
});

/** Runs a tool, failing with its stderr. */
async function tool(cmd: string, ...args: string[]): Promise<string> {
  const r = await execa(cmd, args, { reject: false });
  assert.is(r.exitCode, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

async function readHead(dev: string, n: number): Promise<Buffer> {
  const fh = await open(dev, 'r');
  try {
    const b = Buffer.alloc(n);
    await fh.read(b, 0, n, 0);
    return b;
  } finally {
    await fh.close();
  }
}

async function writeHead(dev: string, data: Buffer): Promise<void> {
  const fh = await open(dev, 'r+');
  try {
    await fh.write(data, 0, data.length, 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

testIf(t, needs('device-mapper'), 'device-mapper: an LVM logical volume and a classic snapshot keeping its data while the origin changes', async () => {
  await withTmpDir(async (dir) => {
    const vg = `lxkitvm${process.pid}`;
    const file = join(dir, 'pv.img');
    await writeFile(file, '');
    await execa('truncate', ['-s', '64M', file]);
    const loop = await tool('losetup', '--find', '--show', file);
    try {
      await tool('pvcreate', '-q', loop);
      await tool('vgcreate', '-q', vg, loop);
      await tool('lvcreate', '-q', '-y', '-Wn', '-L', '16M', '-n', 'origin', vg);
      const origin = `/dev/mapper/${vg}-origin`;
      const before = randomBytes(4096);
      await writeHead(origin, before);
      await tool('lvcreate', '-q', '-y', '-s', '-L', '8M', '-n', 'snap', `${vg}/origin`);
      const after = randomBytes(4096);
      await writeHead(origin, after);
      assert.ok((await readHead(`/dev/mapper/${vg}-snap`, 4096)).equals(before), 'the snapshot keeps the data of when it was taken');
      assert.ok((await readHead(origin, 4096)).equals(after), 'the origin has the new data');
      const lvs = await tool('lvs', '--noheadings', '-o', 'lv_name,origin', '--separator', ',', vg);
      assert.equal(lvs.split('\n').map((l) => l.trim()).sort(), ['origin,', 'snap,origin']);
      const table = await tool('dmsetup', 'table', `${vg}-snap`);
      assert.match(table, / snapshot /, 'a device-mapper snapshot target');
    } finally {
      await execa('vgremove', ['-q', '-f', vg], { reject: false });
      await execa('pvremove', ['-q', '-ff', '-y', loop], { reject: false });
      await execa('losetup', ['-d', loop], { reject: false });
    }
    assert.not.ok((await execa('dmsetup', ['ls'], { reject: false })).stdout.includes(vg), 'no device-mapper device left');
  });
});

testIf(t, needs('vlan'), 'vlan: an 802.1Q link on a dummy device in a network namespace of its own', async () => {
  const ns = `lxkit-vlan-${process.pid}`;
  const ip = (...args: string[]) => tool('ip', '-n', ns, ...args);
  await tool('ip', 'netns', 'add', ns);
  try {
    await ip('link', 'add', 'd0', 'type', 'dummy');
    await ip('link', 'add', 'link', 'd0', 'name', 'd0.42', 'type', 'vlan', 'id', '42');
    await ip('link', 'set', 'd0', 'up');
    await ip('link', 'set', 'd0.42', 'up');
    assert.match(await ip('-d', 'link', 'show', 'd0.42'), /vlan protocol 802\.1Q id 42/);
  } finally {
    await execa('ip', ['netns', 'del', ns], { reject: false });
  }
});

testIf(t, needs('criu'), "criu: the kernel passes criu's check (checkpoint/restore)", async () => {
  const r = await execa('criu', ['check'], { reject: false, all: true });
  assert.is(r.exitCode, 0, String(r.all));
  assert.match(String(r.all), /Looks good/);
});

t.run();
