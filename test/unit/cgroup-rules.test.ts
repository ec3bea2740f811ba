/**
 * The cgroup plugin's pure parts: LXC's cgroup naming rules, /proc/PID/cgroup
 * parsing, and the device rules' semantics and their BPF encoding (the
 * program itself runs against the kernel in test/e2e/cgroup.test.ts).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withTmpDir } from '../lib/harness.js';
import { applyLimits, cgroupNames, createCgroupModel, deviceAllowed, devicePolicy, deviceProgram, parseDeviceRule, parseProcCgroup, type CgroupModel } from '@lxkit/plugin-cgmanager';

const createCgroupModelForTest = (m: Partial<CgroupModel>): CgroupModel => ({ ...createCgroupModel(), ...m });

const names = suite('cgroup names (LXC rules)');

names('lxc.payload.NAME and lxc.monitor.NAME by default, with a -N suffix allowed', () => {
  assert.equal(cgroupNames('c1', undefined, undefined), { container: 'lxc.payload.c1', monitor: 'lxc.monitor.c1', retry: true });
});

names('lxc.cgroup.dir puts both below it; the explicit .container/.monitor pair is used as is', () => {
  assert.equal(cgroupNames('c1', createCgroupModelForTest({ dir: 'site/lxc' }), undefined), {
    container: 'site/lxc/lxc.payload.c1',
    monitor: 'site/lxc/lxc.monitor.c1',
    retry: true,
  });
  assert.equal(cgroupNames('c1', createCgroupModelForTest({ dirContainer: 'a/b', dirMonitor: 'a/m', dirContainerInner: 'inner' }), undefined), {
    container: 'a/b',
    monitor: 'a/m',
    retry: false,
    inner: 'inner',
  });
});

names("the toolkit's pattern: %n is the name, lxc.payload and lxc.monitor below it", () => {
  assert.equal(cgroupNames('web', undefined, 'lxc/%n'), { container: 'lxc/web/lxc.payload', monitor: 'lxc/web/lxc.monitor', retry: true });
});

names('/proc/PID/cgroup: keyed by sorted controllers, the unified one by ""', () => {
  const m = parseProcCgroup('12:cpuacct,cpu:/a\n9:name=systemd:/init.scope\n0::/user.slice\n');
  assert.is(m.get('cpu,cpuacct'), '/a');
  assert.is(m.get('name=systemd'), '/init.scope');
  assert.is(m.get(''), '/user.slice');
});

const devices = suite('device rules');

const policy = (...rules: [boolean, string][]) => devicePolicy(rules.map(([allow, r]) => ({ allow, rule: parseDeviceRule(r) })));

devices('no rules: everything allowed; deny a: nothing but what is allowed afterwards', () => {
  assert.ok(deviceAllowed(policy(), 'b', 8, 0, 'rw'));
  const p = policy([false, 'a'], [true, 'c 1:3 rwm'], [true, 'c *:* m']);
  assert.is(p.defaultAllow, false);
  assert.ok(deviceAllowed(p, 'c', 1, 3, 'rw'));
  assert.ok(deviceAllowed(p, 'c', 1, 5, 'm'), 'mknod of any char device');
  assert.not.ok(deviceAllowed(p, 'c', 1, 5, 'r'), '/dev/zero cannot be read');
  assert.not.ok(deviceAllowed(p, 'b', 7, 0, 'm'), 'no block device can be made');
});

devices('an allow rule must grant every access asked for; a later deny wins over an earlier allow', () => {
  const p = policy([false, 'a'], [true, 'c 5:* rw']);
  assert.not.ok(deviceAllowed(p, 'c', 5, 1, 'rwm'));
  assert.ok(deviceAllowed(p, 'c', 5, 1, 'w'));
  const q = policy([true, 'c 5:* rw'], [false, 'c 5:1 w']);
  assert.not.ok(deviceAllowed(q, 'c', 5, 1, 'rw'));
  assert.ok(deviceAllowed(q, 'c', 5, 1, 'r'));
});

devices('allow a resets the list and allows everything again', () => {
  const p = policy([false, 'a'], [true, 'c 1:3 rwm'], [true, 'a'], [false, 'b 8:* rwm']);
  assert.is(p.defaultAllow, true);
  assert.is(p.rules.length, 1);
  assert.ok(deviceAllowed(p, 'c', 10, 200, 'rw'));
  assert.not.ok(deviceAllowed(p, 'b', 8, 1, 'r'));
});

devices('the program: a 6-instruction prologue, one block per rule, a default verdict', () => {
  const insns = (b: Buffer) => b.length / 8;
  assert.is(insns(deviceProgram(policy())), 8);
  const p = policy([false, 'a'], [true, 'c 1:3 rwm']);
  const prog = deviceProgram(p);
  // type, major, minor tests + mov, and, jump, verdict, exit = 8
  assert.is(insns(prog), 6 + 8 + 2);
  assert.is(prog.readUInt8(prog.length - 16), 0xb7, 'mov r0, default');
  assert.is(prog.readInt32LE(prog.length - 12), 0, 'default: deny');
  assert.is(prog.readUInt8(prog.length - 8), 0x95, 'exit');
  // Every jump stays inside the program.
  for (let i = 0; i < insns(prog); i++) {
    const code = prog.readUInt8(i * 8);
    if (code === 0x55 || code === 0x15) assert.ok(i + 1 + prog.readInt16LE(i * 8 + 2) < insns(prog));
  }
});

const limits = suite('limits by layout');

const origin = (line: number) => ({ file: '/lxc/c1/config', line, key: 'lxc.cgroup' });

limits('a cgroup2-only host ignores lxc.cgroup.* limits with one warning naming them, as LXC; lxc.cgroup2.* are written', async () => {
  await withTmpDir(async (dir) => {
    const warnings: string[] = [];
    const model = createCgroupModelForTest({
      v1: [
        { file: 'memory.limit_in_bytes', value: '32M', origin: origin(3) },
        { file: 'cpuset.cpus', value: '0', origin: origin(4) },
      ],
      v2: [{ file: 'pids.max', value: '24', origin: { ...origin(5), key: 'lxc.cgroup2' } }],
    });
    applyLimits(model, [{ version: 2, controllers: ['memory', 'pids', 'cpuset'], limit: dir }], 'c1', { root: true, warn: (m) => warnings.push(m) });
    assert.equal(warnings, ['/lxc/c1/config:3: ignoring 2 lxc.cgroup.* limit(s) (memory.limit_in_bytes, cpuset.cpus): this host has only the unified cgroup hierarchy; use lxc.cgroup2.*']);
    assert.is(readFileSync(join(dir, 'pids.max'), 'utf8'), '24');
    assert.not.ok(existsSync(join(dir, 'memory.limit_in_bytes')));
  });
});

limits('on a hybrid host a v1 limit whose controller has no v1 hierarchy is an error naming file, line and key', async () => {
  await withTmpDir(async (dir) => {
    const model = createCgroupModelForTest({ v1: [{ file: 'memory.limit_in_bytes', value: '32M', origin: origin(3) }] });
    const placed = [
      { version: 1 as const, controllers: ['pids'], limit: dir },
      { version: 2 as const, controllers: ['memory'], limit: dir },
    ];
    assert.throws(() => applyLimits(model, placed, 'c1'), (e: Error) => e.message.includes('/lxc/c1/config:3') && e.message.includes('no cgroup v1 hierarchy has the "memory" controller'));
  });
});

names.run();
devices.run();
limits.run();
