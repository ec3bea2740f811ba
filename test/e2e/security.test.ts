/**
 * Confinement checked from inside real containers: seccomp policies (the
 * shipped default and LXC's format features), capability sets, and
 * no_new_privs, proc:mixed and sys:ro. A small static program
 * (test/fixtures/security-probe.c) makes single system calls and prints
 * their errno.
 */
import { chmod, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { Container } from '@lxkit/core';
import { capabilitySets, formatCapSet, kernelLastCap, parseCap } from '@lxkit/plugin-caps';
import { busyboxIn, lxkitIn, ROOT, testIf, which, withScratch, withTmpDir, type Scratch } from '../lib/harness.js';

const missing = which('gcc') && readFileSyncSafe('/usr/lib/x86_64-linux-gnu/libc.a') ? undefined : 'gcc and a static libc are needed to build the probe (npm run setup installs g++)';
const x86 = process.arch === 'x64' ? undefined : 'the 32-bit ABI test is for x86-64 hosts';

function readFileSyncSafe(path: string): boolean {
  try {
    readFileSync(path, { flag: 'r' }).subarray(0, 1);
    return true;
  } catch {
    return false;
  }
}

/** A busybox container with the probe at /probe and `extra` config lines; `fn` gets a runner of `lxkit execute`. */
async function withProbe(extra: string, fn: (run: (...cmd: string[]) => Promise<{ exitCode: number; stdout: string; stderr: string }>, s: Scratch) => Promise<void>) {
  await withScratch(async (s) => {
    const dir = await busyboxIn(s, 'sec', extra);
    await execa('gcc', ['-static', '-O1', '-no-pie', '-o', join(dir, 'rootfs/probe'), join(ROOT, 'test/fixtures/security-probe.c')]);
    await fn((...cmd) => lxkitIn(s, 'execute', '-n', 'sec', '--', ...cmd), s);
  });
}

const withPolicy = async (text: string, fn: (run: (...cmd: string[]) => Promise<{ exitCode: number; stdout: string; stderr: string }>) => Promise<void>) =>
  withTmpDir(async (dir) => {
    const file = join(dir, 'policy');
    await writeFile(file, text);
    await withProbe(`lxc.seccomp.profile = ${file}\n`, (run) => fn(run));
  });

const sec = suite('seccomp inside real containers');

testIf(sec, missing, 'an errno N rule returns N; other calls work', async () => {
  await withPolicy('2\ndenylist\nmkdir errno 42\nmkdirat errno 42\n', async (run) => {
    const r = await run('/probe', 'mkdir64', '/tmp/x');
    assert.is(r.exitCode, 0, r.stderr);
    assert.is(r.stdout.trim(), 'errno=42');
    const ok = await run('/probe', 'personality', '0');
    assert.is(ok.stdout.trim(), 'errno=0');
  });
});

testIf(sec, missing, 'a kill rule kills the process (SIGSYS: exit 159)', async () => {
  await withPolicy('2\ndenylist\nmkdir kill\n', async (run) => {
    const r = await run('/probe', 'mkdir64', '/tmp/x');
    assert.is(r.exitCode, 128 + 31, `${r.stdout} ${r.stderr}`);
  });
});

testIf(sec, missing, 'a v1 numeric allowlist allows exactly its syscalls: everything listed works, mkdir (not listed) kills', async () => {
  // Every x86-64 syscall number but mkdir (83) and mkdirat (258).
  const numbers = Array.from({ length: 460 }, (_, i) => i).filter((n) => n !== 83 && n !== 258);
  await withPolicy(`1\nallowlist\n${numbers.join('\n')}\n`, async (run) => {
    const ok = await run('/probe', 'personality', '0');
    assert.is(ok.exitCode, 0, ok.stderr);
    assert.is(ok.stdout.trim(), 'errno=0');
    const r = await run('/probe', 'mkdir64', '/tmp/x');
    assert.is(r.exitCode, 128 + 31, `${r.stdout} ${r.stderr}`);
  });
});

testIf(sec, missing, 'an argument filter: personality allowed only for 0', async () => {
  await withPolicy('2\ndenylist\npersonality errno 1 [0,0,SCMP_CMP_NE]\n', async (run) => {
    assert.is((await run('/probe', 'personality', '0')).stdout.trim(), 'errno=0');
    assert.is((await run('/probe', 'personality', '8')).stdout.trim(), 'errno=1');
  });
  await withPolicy('2\ndenylist\npersonality errno 1 [0,0,!=]\n', async (run) => {
    assert.is((await run('/probe', 'personality', '0x8')).stdout.trim(), 'errno=1', 'the symbolic operator too');
  });
});

testIf(sec, missing ?? x86, 'arch sections: an [x86] rule filters the 32-bit call through int 0x80 and not the 64-bit one; [all] both', async () => {
  await withPolicy('2\ndenylist\n[x86]\nmkdir errno 42\n', async (run) => {
    assert.is((await run('/probe', 'mkdir32', '/tmp/a')).stdout.trim(), 'errno=42');
    assert.is((await run('/probe', 'mkdir64', '/tmp/b')).stdout.trim(), 'errno=0');
  });
  await withPolicy('2\ndenylist\n[x86_64]\nmkdir errno 42\n', async (run) => {
    assert.is((await run('/probe', 'mkdir32', '/tmp/a')).stdout.trim(), 'errno=0');
    assert.is((await run('/probe', 'mkdir64', '/tmp/b')).stdout.trim(), 'errno=42');
  });
  await withPolicy('2\ndenylist\n[all]\nmkdir errno 42\n', async (run) => {
    assert.is((await run('/probe', 'mkdir32', '/tmp/a')).stdout.trim(), 'errno=42');
    assert.is((await run('/probe', 'mkdir64', '/tmp/b')).stdout.trim(), 'errno=42');
  });
});

testIf(sec, missing, 'the default policy: reject_force_umount makes umount -f fail with EACCES, in the init and in attach; attach -e is not filtered', async () => {
  await withProbe('', async (run, s) => {
    const r = await run('sh', '-c', 'umount -f /proc; echo rc=$?');
    assert.match(r.stderr + r.stdout, /Permission denied/);
    assert.match(r.stdout, /rc=1/);
    assert.is((await lxkitIn(s, 'start', '-n', 'sec')).exitCode, 0);
    try {
      const a = await lxkitIn(s, 'attach', '-n', 'sec', '--', 'sh', '-c', 'grep Seccomp: /proc/self/status; umount -f /proc');
      assert.match(a.stdout, /Seccomp:\s+2/);
      assert.match(a.stderr, /Permission denied/);
      const e = await lxkitIn(s, 'attach', '-n', 'sec', '-e', '--', 'grep', 'Seccomp:', '/proc/self/status');
      assert.match(e.stdout, /Seccomp:\s+0/);
    } finally {
      await lxkitIn(s, 'stop', '-n', 'sec', '-k');
    }
  });
});

const NOTIFY_POLICY = '2\ndenylist\nmkdir notify\nmkdirat notify\n';

/**
 * Runs the test proxy (test/fixtures/notify-proxy.c), answering errno 18
 * (EXDEV) to `count` notifications, and a container whose policy notifies
 * on mkdir with it as lxc.seccomp.notify.proxy (plus `extra` config);
 * returns the proxy's output lines, one per notification it saw.
 */
async function withNotifyProxy(count: number, extra: string, fn: Parameters<typeof withProbe>[1]): Promise<string[]> {
  return withTmpDir(async (dir) => {
    await execa('gcc', ['-O1', '-o', join(dir, 'proxy'), join(ROOT, 'test/fixtures/notify-proxy.c')]);
    const sock = join(dir, 'proxy.sock');
    // Bounded by a timeout whatever happens.
    const proxy = execa(join(dir, 'proxy'), [sock, '18', String(count)], { reject: false, timeout: 60_000 });
    try {
      await new Promise<void>((resolve, reject) => {
        proxy.stdout!.once('data', () => resolve());
        proxy.once('exit', () => reject(new Error('the test proxy did not start')));
      });
      const policy = join(dir, 'policy');
      await writeFile(policy, NOTIFY_POLICY);
      await withProbe(`lxc.seccomp.profile = ${policy}\nlxc.seccomp.notify.proxy = unix:${sock}\n${extra}`, fn);
    } finally {
      proxy.kill();
    }
    return String((await proxy).stdout).split('\n').filter((l) => l.startsWith('nr='));
  });
}

testIf(sec, missing, "notify rules: the monitor forwards each call to lxc.seccomp.notify.proxy in LXC's format and returns its answer", async () => {
  const seen = await withNotifyProxy(1, 'lxc.seccomp.notify.cookie = lxkit-cookie\n', async (run) => {
    const r = await run('sh', '-c', '/probe mkdir64 /tmp/x; /probe personality 0');
    assert.is(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n'), ['errno=18', 'errno=0'], 'the proxy\'s answer; other calls untouched');
  });
  assert.match(seen.join('\n'), /^nr=(83|258) cookie=lxkit-cookie fds=2 pid_ok=1 init_pid=[1-9]\d* monitor_pid=[1-9]\d*$/m);
});

/** utime + stime of a process, in clock ticks. */
const cpuTicks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
};

testIf(sec, missing, 'notify rules in attach: the program\'s listener goes to the monitor, which asks the same proxy; -e is not filtered; a finished program\'s listener is dropped', async () => {
  const seen = await withNotifyProxy(100, '', async (_run, s) => {
    assert.is((await lxkitIn(s, 'start', '-n', 'sec')).exitCode, 0);
    try {
      const a = await lxkitIn(s, 'attach', '-n', 'sec', '--', '/probe', 'mkdir64', '/tmp/x');
      assert.is(a.stdout.trim(), 'errno=18', `the proxy's answer, not ENOSYS (${a.stderr})`);
      const twice = await lxkitIn(s, 'attach', '-n', 'sec', '--', 'sh', '-c', '/probe mkdir64 /tmp/y; /probe mkdir64 /tmp/z');
      assert.equal(twice.stdout.trim().split('\n'), ['errno=18', 'errno=18'], 'a second attach gets its own listener served');
      const e = await lxkitIn(s, 'attach', '-n', 'sec', '-e', '--', '/probe', 'mkdir64', '/tmp/w');
      assert.is(e.stdout.trim(), 'errno=0', '-e: no filter');
      // The attached programs are gone: their listeners hang up and are closed, not polled in a loop.
      const { monitorPid } = (await (await new Container('sec', { lxcpath: s.lxcpath }).running()).status())!;
      const before = cpuTicks(monitorPid);
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(cpuTicks(monitorPid) - before <= 2, 'the monitor is idle');
    } finally {
      await lxkitIn(s, 'stop', '-n', 'sec', '-k');
    }
  });
  assert.ok(seen.length >= 3, 'three notifications from attached programs reached the proxy');
});

testIf(sec, missing, 'notify rules without a proxy: the call fails with ENOSYS', async () => {
  await withPolicy(NOTIFY_POLICY, async (run) => {
    assert.is((await run('/probe', 'mkdir64', '/tmp/x')).stdout.trim(), 'errno=38');
  });
});

testIf(sec, missing, 'a policy error names the file, line and reason, and nothing runs', async () => {
  await withTmpDir(async (dir) => {
    const file = join(dir, 'bad');
    await writeFile(file, '2\ndenylist\n# fine\nmkdir errno 1 [7,0,==]\n');
    await withProbe(`lxc.seccomp.profile = ${file}\n`, async (run) => {
      const r = await run('/probe', 'euid');
      assert.is.not(r.exitCode, 0);
      assert.match(r.stderr, new RegExp(`${file}:4: argument filter "\\[7,0,==\\]": the argument index must be 0 to 5`));
      assert.not.match(r.stdout, /euid=/);
    });
  });
});

const caps = suite('capabilities inside real containers');

const hostBounding = () => BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);

testIf(caps, missing, 'CapBnd and CapEff of the init and of attach equal the computed sets (within what lxkit holds); -u 1000 has none effective', async () => {
  await withProbe('lxc.cap.drop =\nlxc.cap.drop = sys_module net_raw 25\n', async (_run, s) => {
    const model = { explicit: true, drop: ['sys_module', 'net_raw'].map(parseCap).concat(25) };
    const sets = capabilitySets(model, kernelLastCap(), 0);
    const held = hostBounding();
    assert.is((await lxkitIn(s, 'start', '-n', 'sec')).exitCode, 0);
    try {
      const pid = (await lxkitIn(s, 'info', '-n', 'sec', '-p', '-H')).stdout.trim().split(/\s+/).pop()!;
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      assert.is(/^CapBnd:\s*(\S+)$/m.exec(status)![1], formatCapSet(sets.bounding & held));
      assert.is(/^CapEff:\s*(\S+)$/m.exec(status)![1], formatCapSet(sets.effective & held));
      assert.is(/^CapInh:\s*(\S+)$/m.exec(status)![1], formatCapSet(sets.inheritable));
      assert.is(/^CapAmb:\s*(\S+)$/m.exec(status)![1], formatCapSet(sets.ambient));
      const a = await lxkitIn(s, 'attach', '-n', 'sec', '--', 'grep', '-E', '^Cap(Bnd|Eff)', '/proc/self/status');
      assert.match(a.stdout, new RegExp(`CapEff:\\s+${formatCapSet(sets.effective & held)}`));
      assert.match(a.stdout, new RegExp(`CapBnd:\\s+${formatCapSet(sets.bounding & held)}`));
      const u = await lxkitIn(s, 'attach', '-n', 'sec', '-u', '1000', '--', 'grep', '-E', '^Cap(Bnd|Eff)', '/proc/self/status');
      assert.match(u.stdout, /CapEff:\s+0000000000000000/);
      assert.match(u.stdout, new RegExp(`CapBnd:\\s+${formatCapSet(sets.bounding & held)}`));
    } finally {
      await lxkitIn(s, 'stop', '-n', 'sec', '-k');
    }
  });
});

testIf(caps, missing, 'with lxc.no_new_privs = 1 a setuid binary gains nothing (without it, it does)', async () => {
  const suid = async (s: Scratch) => {
    const probe = join(s.lxcpath, 'sec/rootfs/probe');
    await chmod(probe, 0o4755);
  };
  await withProbe('lxc.init.uid = 1000\nlxc.init.gid = 1000\n', async (_run, s) => {
    await suid(s);
    const r = await lxkitIn(s, 'execute', '-n', 'sec', '--', '/probe', 'euid');
    assert.is(r.stdout.trim(), 'euid=0', r.stderr);
  });
  await withProbe('lxc.init.uid = 1000\nlxc.init.gid = 1000\nlxc.no_new_privs = 1\n', async (_run, s) => {
    await suid(s);
    const r = await lxkitIn(s, 'execute', '-n', 'sec', '--', '/probe', 'euid');
    assert.is(r.stdout.trim(), 'euid=1000', r.stderr);
  });
});

testIf(caps, missing, 'lxc.no_new_privs holds for attached programs too, also with -e (as LXC); without it attach has none', async () => {
  await withProbe('lxc.no_new_privs = 1\n', async (_run, s) => {
    await chmod(join(s.lxcpath, 'sec/rootfs/probe'), 0o4755);
    assert.is((await lxkitIn(s, 'start', '-n', 'sec')).exitCode, 0);
    try {
      const a = await lxkitIn(s, 'attach', '-n', 'sec', '-u', '1000', '-g', '1000', '--', '/probe', 'euid');
      assert.is(a.stdout.trim(), 'euid=1000', a.stderr);
      const e = await lxkitIn(s, 'attach', '-n', 'sec', '-e', '--', 'grep', 'NoNewPrivs:', '/proc/self/status');
      assert.match(e.stdout, /NoNewPrivs:\s+1/);
    } finally {
      await lxkitIn(s, 'stop', '-n', 'sec', '-k');
    }
  });
  await withProbe('', async (_run, s) => {
    await chmod(join(s.lxcpath, 'sec/rootfs/probe'), 0o4755);
    assert.is((await lxkitIn(s, 'start', '-n', 'sec')).exitCode, 0);
    try {
      const a = await lxkitIn(s, 'attach', '-n', 'sec', '-u', '1000', '-g', '1000', '--', '/probe', 'euid');
      assert.is(a.stdout.trim(), 'euid=0', a.stderr);
    } finally {
      await lxkitIn(s, 'stop', '-n', 'sec', '-k');
    }
  });
});

const mounts = suite('proc:mixed, sys:ro and sys:mixed');

testIf(mounts, missing, 'writes to /proc/sysrq-trigger, /proc/sys/kernel/* and /sys fail inside', async () => {
  await withProbe('', async (run) => {
    const r = await run(
      'sh',
      '-c',
      'for f in /proc/sysrq-trigger /proc/sys/kernel/domainname /sys/kernel/uevent_helper; do if echo x > $f 2>/dev/null; then echo "$f written"; else echo "$f refused"; fi; done; grep -E " /(proc/sys|sys|proc/sysrq-trigger) " /proc/self/mounts',
    );
    assert.match(r.stdout, /\/proc\/sysrq-trigger refused/);
    assert.match(r.stdout, /\/proc\/sys\/kernel\/domainname refused/);
    assert.match(r.stdout, /\/sys\/kernel\/uevent_helper refused/);
    assert.not.match(r.stdout, /written/);
  });
});

testIf(mounts, missing, 'sys:mixed: one read-only sysfs on /sys (none writable beneath), a writable bind on /sys/devices/virtual/net', async () => {
  await withProbe('lxc.mount.auto =\nlxc.mount.auto = proc:mixed sys:mixed\n', async (run) => {
    const r = await run(
      'sh',
      '-c',
      'for f in /sys/kernel/uevent_helper /sys/devices/virtual/net/lo/mtu; do if [ -w $f ]; then echo "$f writable"; else echo "$f read-only"; fi; done; grep " sysfs " /proc/self/mountinfo | cut -d" " -f4-6',
    );
    assert.is(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /\/sys\/kernel\/uevent_helper read-only/);
    assert.match(r.stdout, /\/sys\/devices\/virtual\/net\/lo\/mtu writable/);
    const sysfs = r.stdout.split('\n').filter((l) => / \/sys\S* (ro|rw),/.test(l));
    // No writable sysfs left under the read-only one for a umount to uncover: one mount on /sys.
    assert.equal(
      sysfs.filter((l) => !l.startsWith('/kernel/security ')),
      ['/ /sys ro,nosuid,nodev,noexec,relatime', '/devices/virtual/net /sys/devices/virtual/net rw,nosuid,nodev,noexec,relatime'],
    );
  });
});

const ptys = suite('lxc.pty.max');

testIf(ptys, missing, 'the container opens lxc.pty.max ptys of its own, none without it (as LXC), and gets no devpts when it has no tty either', async () => {
  const ENOSPC = 28;
  const ENOENT = 2;
  for (const [extra, want] of [
    ['lxc.tty.max = 2\nlxc.pty.max = 3\n', `ptys=3 errno=${ENOSPC}`],
    ['lxc.tty.max = 2\nlxc.pty.max = 0\n', `ptys=0 errno=${ENOSPC}`],
    ['lxc.tty.max = 0\nlxc.pty.max = 0\n', `ptys=0 errno=${ENOENT}`],
  ] as const) {
    await withProbe(extra, async (run) => {
      const r = await run('sh', '-c', '/probe openpty 10; grep -c " - devpts " /proc/self/mountinfo || true');
      assert.is(r.exitCode, 0, r.stderr);
      const [opened, devpts] = r.stdout.trim().split('\n');
      assert.is(opened, want, extra);
      assert.is(devpts, extra.includes('tty.max = 0') ? '0' : '2', `${extra}: devpts mounts (on /dev/pts, /dev/ptmx)`);
    });
  }
});

sec.run();
caps.run();
ptys.run();
mounts.run();
