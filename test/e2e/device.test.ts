/** lxkit device (lxc-device): host devices handed to a running container, and taken back. */
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { withLxcBusybox } from '../lib/lxc-busybox.js';
import { busyboxIn, hostMounts, lxkitIn, testIf, which, withScratch, type Scratch } from '../lib/harness.js';

const test = suite('device');
const LXC_MISSING = which('lxc-device') && which('lxc-create') ? undefined : "lxc-device is not installed (Debian's lxc package)";

// /dev/loop-control (c 10:237): on every host with loop devices (lxkit's tests need them), harmless to open
// (only its ioctls do something), and not among the devices the busybox config or LXC's common.conf allow.
const PROBE = (path: string) => `stat -c '%A %t:%T %u:%g' ${path} 2>&1; (exec 3<${path} && echo opened) 2>&1 | sed 's/.*: //'`;

async function probe(s: Scratch, path: string): Promise<string> {
  const r = await lxkitIn(s, 'attach', '-n', 'c', '--', 'sh', '-c', PROBE(path));
  return r.stdout.trim();
}

testIf(test, LXC_MISSING, 'add /dev/loop-control: the same node and access as lxc-device gives, where the container could not open one before', async () => {
  await withLxcBusybox(async (c) => {
    // A v1 device list, as distribution containers have one (not /dev/loop-control). Not LXC's common.conf:
    // its lxc.cgroup2.devices rules, a BPF program on the unified hierarchy, refuse the device for both tools still.
    await c.configure(['deny = a', 'allow = c *:* m', 'allow = b *:* m', 'allow = c 1:3 rwm', 'allow = c 1:5 rwm', 'allow = c 5:2 rwm', 'allow = c 136:* rwm'].map((r) => `lxc.cgroup.devices.${r}\n`).join(''));
    const seen: Record<string, string> = {};
    for (const who of ['lxc', 'lxkit'] as const) {
      assert.is((await c.run(who, 'start')).exitCode, 0, `${who} start`);
      try {
        const attach = async () => String((await c.run(who, 'attach', '--', 'sh', '-c', `mknod /dev/probe c 10 237 && ${PROBE('/dev/probe')}; rm -f /dev/probe`)).stdout).trim();
        // The devices cgroup refuses it before: the node alone is not enough.
        assert.match(await attach(), /Operation not permitted$/, `${who}: refused before`);
        const r = await c.run(who, 'device', 'add', '/dev/loop-control');
        assert.is(r.exitCode, 0, `${who} device add: ${String(r.stderr)}`);
        seen[who] = String((await c.run(who, 'attach', '--', 'sh', '-c', PROBE('/dev/loop-control'))).stdout).trim();
      } finally {
        await c.run(who, 'stop', '-k');
      }
    }
    assert.is(seen['lxkit'], seen['lxc']);
    // The host's numbers and mode (less the umask, as mknod gives it), root's, and open.
    assert.match(seen['lxkit']!, /^crw-r[w-]---- a:ed 0:0\nopened$/);
  });
});

test('a node where it is asked for (parents made), del takes the node and the access away; the host keeps its own', async () => {
  await withScratch(async (s) => {
    await busyboxIn(s, 'c');
    assert.is((await lxkitIn(s, 'start', '-n', 'c')).exitCode, 0);
    try {
      const add = await lxkitIn(s, 'device', '-n', 'c', 'add', '/dev/loop-control', '/dev/extra/loop-control');
      assert.is(add.exitCode, 0, add.stderr);
      assert.match(await probe(s, '/dev/extra/loop-control'), /^crw-r[w-]---- a:ed 0:0\nopened$/);
      // A second node of the same device, in place: both work until del.
      assert.is((await lxkitIn(s, 'device', '-n', 'c', 'add', '/dev/loop-control')).exitCode, 0);
      const del = await lxkitIn(s, 'device', '-n', 'c', 'del', '/dev/loop-control');
      assert.is(del.exitCode, 0, del.stderr);
      assert.match(await probe(s, '/dev/loop-control'), /No such file or directory/);
      // The rule went with it: the other node is refused now.
      assert.match(await probe(s, '/dev/extra/loop-control'), /Operation not permitted$/);
      assert.ok((await execa('test', ['-c', '/dev/loop-control'], { reject: false })).exitCode === 0, "the host's /dev/loop-control is there");
      assert.not.ok((await hostMounts()).some((m) => m.includes('extra')), 'nothing mounted on the host');
    } finally {
      await lxkitIn(s, 'stop', '-n', 'c', '-k');
    }
  });
});

test('an interface moves in under the name asked for, and back out under its own', async () => {
  await withScratch(async (s) => {
    await busyboxIn(s, 'c');
    const [inner, outer] = ['lxkit-dv0', 'lxkit-dv1'];
    await execa('ip', ['link', 'add', inner, 'type', 'veth', 'peer', 'name', outer]);
    try {
      assert.is((await lxkitIn(s, 'start', '-n', 'c')).exitCode, 0);
      try {
        const add = await lxkitIn(s, 'device', '-n', 'c', 'add', inner, 'eth7');
        assert.is(add.exitCode, 0, add.stderr);
        assert.equal((await lxkitIn(s, 'attach', '-n', 'c', '--', 'ls', '/sys/class/net')).stdout.split('\n'), ['eth7', 'lo']);
        assert.is((await execa('ip', ['link', 'show', inner], { reject: false })).exitCode, 1, 'gone from the host');
        const del = await lxkitIn(s, 'device', '-n', 'c', 'del', 'eth7', inner);
        assert.is(del.exitCode, 0, del.stderr);
        assert.is((await execa('ip', ['link', 'show', inner], { reject: false })).exitCode, 0, 'back on the host');
        assert.equal((await lxkitIn(s, 'attach', '-n', 'c', '--', 'ls', '/sys/class/net')).stdout.split('\n'), ['lo']);
      } finally {
        await lxkitIn(s, 'stop', '-n', 'c', '-k');
      }
    } finally {
      // A veth in the container went with its namespace; one back on the host goes here.
      await execa('ip', ['link', 'del', outer], { reject: false });
      await execa('ip', ['link', 'del', inner], { reject: false });
    }
  });
});

test('refusals, each named: no such action, container, device or interface; a file that is no device; a relative place', async () => {
  await withScratch(async (s) => {
    await busyboxIn(s, 'c');
    assert.match((await lxkitIn(s, 'device', '-n', 'c', 'add', '/dev/loop-control')).stderr, /container "c" is not running/);
    assert.is((await lxkitIn(s, 'start', '-n', 'c')).exitCode, 0);
    try {
      const cases: [string[], RegExp][] = [
        [['frob', '/dev/loop-control'], /"frob" is no action: use add or del/],
        [['add', '/dev/nonexistent-lxkit'], /\/dev\/nonexistent-lxkit: ENOENT/],
        [['add', '/etc/hostname'], /\/etc\/hostname is no device node/],
        [['add', '/dev/loop-control', 'relative/kmsg'], /"relative\/kmsg": a device node's place in the container is an absolute path/],
        [['add', '/dev/loop-control', '/dev/../../x'], /cannot make \/dev\/\.\.\/\.\.\/x: EINVAL/],
        [['add', 'lxkit-none0'], /cannot move the network interface lxkit-none0 in: .*lxkit-none0/],
        [['del', 'lxkit-none0'], /cannot move the network interface lxkit-none0 out: .*lxkit-none0/],
      ];
      for (const [args, message] of cases) {
        const r = await lxkitIn(s, 'device', '-n', 'c', ...args);
        assert.is(r.exitCode, 1, args.join(' '));
        assert.match(r.stderr, message, args.join(' '));
      }
      // A symlink in the container that leads out of it is not followed to the host.
      await lxkitIn(s, 'attach', '-n', 'c', '--', 'ln', '-s', '/../../../../tmp', '/dev/escape');
      const escape = await lxkitIn(s, 'device', '-n', 'c', 'add', '/dev/loop-control', '/dev/escape/loop-control');
      assert.is(escape.exitCode, 1);
      assert.match(escape.stderr, /cannot make \/dev\/escape\/loop-control: EXDEV/);
      assert.is((await execa('test', ['-e', '/tmp/loop-control'], { reject: false })).exitCode, 1, 'nothing made on the host');
    } finally {
      await lxkitIn(s, 'stop', '-n', 'c', '-k');
    }
  });
});

test.run();
