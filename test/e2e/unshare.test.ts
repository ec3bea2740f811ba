/** lxkit unshare (lxc-unshare): a command in new namespaces of the host. */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LXKIT_BIN, hostMounts, lxkit, testIf, until, which, withTmpDir } from '../lib/harness.js';

const test = suite('unshare');
const LXC_MISSING = which('lxc-unshare') ? undefined : "lxc-unshare is not installed (Debian's lxc package)";

/** The same arguments to lxc-unshare and lxkit unshare: exit status and output of each. */
async function both(args: string[]) {
  const lxc = await execa('lxc-unshare', args, { reject: false });
  const ours = await lxkit(['unshare', ...args]);
  return { lxc: { code: lxc.exitCode, out: String(lxc.stdout) }, lxkit: { code: ours.exitCode, out: ours.stdout }, stderr: ours.stderr };
}

const hostName = async () => (await readFile('/proc/sys/kernel/hostname', 'utf8')).trim();

testIf(test, LXC_MISSING, 'as lxc-unshare: the host name, pid 1, an empty network, -u in a user namespace, and the same refusals', async () => {
  const before = await hostName();
  // lxc-unshare's names and the kernel's, in any case; the network has only lo, down.
  for (const ns of ['UTSNAME|PID|NETWORK|IPC|MOUNT', 'uts|pid|net|ipc|mnt']) {
    const r = await both(['-s', ns, '-H', 'unshared', '--', 'sh', '-c', "hostname; echo $$; ip -o link | awk -F': ' '{print $2}'"]);
    assert.equal(r.lxkit, r.lxc, `${ns}: ${r.stderr}`);
    assert.equal(r.lxkit, { code: 0, out: 'unshared\n1\nlo' });
  }
  assert.is(await hostName(), before, "the host's name is untouched");
  // -u in a new user namespace: the user's uid is the caller's (root's) outside.
  const user = await both(['-s', 'USER', '-u', 'nobody', '--', 'sh', '-c', 'id -u; cat /proc/self/uid_map']);
  assert.equal(user.lxkit, user.lxc, user.stderr);
  assert.match(user.lxkit.out, /^65534\n +65534 +0 +1$/);
  // Refusals, each with exit status 1: an option without its namespace, no -s, a namespace or user that does not exist, no command.
  for (const args of [
    ['-s', 'NETWORK', '-H', 'x', '--', 'true'],
    ['-s', 'UTSNAME', '-M', '--', 'true'],
    ['-s', 'UTSNAME', '-i', 'lo', '--', 'true'],
    ['--', 'true'],
    ['-s', 'BOGUS', '--', 'true'],
    ['-s', 'UTSNAME', '-u', 'no-such-user-here', '--', 'true'],
    ['-s', 'UTSNAME'],
  ]) {
    const r = await both(args);
    assert.is(r.lxc.code, 1, `lxc-unshare ${args.join(' ')}`);
    assert.is(r.lxkit.code, 1, `lxkit unshare ${args.join(' ')}: ${r.stderr}`);
  }
});

test('each refusal names what was wrong', async () => {
  const cases: [string[], RegExp][] = [
    [['-s', 'NETWORK', '-H', 'x', '--', 'true'], /-H <hostname> needs -s UTSNAME/],
    [['-s', 'UTSNAME', '-M', '--', 'true'], /-M needs -s MOUNT/],
    [['-s', 'UTSNAME', '-i', 'lo', '--', 'true'], /-i <interface> needs -s NETWORK/],
    [['--', 'true'], /-s is required/],
    [['-s', 'PID|BOGUS', '--', 'true'], /-s PID\|BOGUS: no namespace is called "BOGUS"/],
    [['-s', '|', '--', 'true'], /-s names no namespace/],
    [['-s', 'UTSNAME', '-u', 'no-such-user-here', '--', 'true'], /-u no-such-user-here: this host has no such user/],
    [['-s', 'UTSNAME'], /a command to run in the new namespaces is required/],
    [['-s', 'UTSNAME', '--', '/nonexistent/program'], /executing \/nonexistent\/program in the new namespaces: ENOENT/],
    [['-s', 'NETWORK', '-i', 'lxkit-none0', '--', 'true'], /-i lxkit-none0: cannot move the interface into the new network namespace: .*lxkit-none0/],
  ];
  for (const [args, message] of cases) {
    const r = await lxkit(['unshare', ...args]);
    assert.is(r.exitCode, 1, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
  }
});

test("the command's exit status is lxkit's, 128+N when signal N killed it (lxc-unshare 5.0 says only 0 or 1)", async () => {
  assert.is((await lxkit(['unshare', '-s', 'IPC', '--', 'sh', '-c', 'exit 42'])).exitCode, 42);
  assert.is((await lxkit(['unshare', '-s', 'UTSNAME', '--', 'sh', '-c', 'kill -9 $$'])).exitCode, 137);
});

test('-u without a user namespace: the user with its group and groups, as id(1) tells them', async () => {
  const want = (await execa('sh', ['-c', 'id -u nobody; id -g nobody; id -G nobody'])).stdout;
  const r = await lxkit(['unshare', '-s', 'UTSNAME', '-u', 'nobody', '--', 'sh', '-c', 'id -u; id -g; id -G']);
  assert.is(r.exitCode, 0, r.stderr);
  assert.is(r.stdout, want);
  // By uid too; in a user namespace the user's gid is mapped to the caller's.
  const mapped = await lxkit(['unshare', '-s', 'USER', '-u', '65534', '--', 'sh', '-c', 'id -u; id -g; cat /proc/self/gid_map']);
  assert.is(mapped.exitCode, 0, mapped.stderr);
  assert.match(mapped.stdout, /^65534\n65534\n +65534 +0 +1$/);
});

test('-M: a /proc of the new pid namespace, a new /dev/shm and /dev/mqueue, none of them on the host', async () => {
  const before = await hostMounts();
  const r = await lxkit([
    'unshare', '-s', 'MOUNT|PID|IPC', '-M', '--', 'sh', '-c',
    `ls /proc | grep -c '^[0-9]'; cat /proc/1/comm; awk '$5 == "/proc" || $5 == "/dev/shm" || $5 == "/dev/mqueue" {split($0, a, " - "); split(a[2], b, " "); print $5, b[1], b[2]}' /proc/self/mountinfo | tail -n 3 | sort`,
  ]);
  assert.is(r.exitCode, 0, r.stderr);
  const [count, comm, ...mounts] = r.stdout.split('\n');
  // sh, ls and grep at most: the host's processes are not there.
  assert.ok(Number(count) >= 1 && Number(count) <= 3, `processes in /proc: ${count}`);
  assert.is(comm, 'sh', 'pid 1 is the command');
  assert.equal(mounts, ['/dev/mqueue mqueue mqueue', '/dev/shm tmpfs shmfs', '/proc proc proc']);
  assert.equal(await hostMounts(), before, 'nothing mounted on the host');
});

test("the command's mounts stay in its mount namespace, even below a shared mount of the host", async () => {
  await withTmpDir(async (dir) => {
    const shared = join(dir, 'shared');
    await mkdir(shared);
    await execa('mount', ['-t', 'tmpfs', 'lxkit-test', shared]);
    try {
      await execa('mount', ['--make-shared', shared]);
      await mkdir(join(shared, 'sub'));
      const r = await lxkit(['unshare', '-s', 'MOUNT', '--', 'sh', '-c', `mount -t tmpfs inner ${shared}/sub && grep -c " ${shared}/sub " /proc/self/mountinfo`]);
      assert.is(r.exitCode, 0, r.stderr);
      assert.is(r.stdout, '1', 'mounted inside');
      assert.not.ok((await hostMounts()).includes(`${shared}/sub`), 'not propagated to the host');
    } finally {
      await execa('umount', ['-R', shared]);
    }
  });
});

test('-i moves a host interface into the new network namespace before the command runs', async () => {
  const [inner, outer] = ['lxkit-us0', 'lxkit-us1'];
  await execa('ip', ['link', 'add', inner, 'type', 'veth', 'peer', 'name', outer]);
  try {
    const r = await lxkit(['unshare', '-s', 'NETWORK', '-i', inner, '--', 'sh', '-c', "ip -o link | awk -F': ' '{print $2}' | cut -d@ -f1"]);
    assert.is(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout.split('\n'), ['lo', inner]);
  } finally {
    // The pair goes with the namespace, which the kernel tears down after the command's exit: remove whatever is left.
    await execa('ip', ['link', 'del', outer], { reject: false });
    await execa('ip', ['link', 'del', inner], { reject: false });
  }
});

test('-d: lxkit exits once the command runs; the command goes on, and its monitor ends with it', async () => {
  await withTmpDir(async (dir) => {
    const gate = join(dir, 'gate');
    const out = join(dir, 'out');
    try {
      // Its output let go of: lxkit's, which execa waits on, would stay open as long as the command runs.
      const script = `exec >/dev/null 2>&1; while [ ! -e ${gate} ]; do sleep 0.05; done; hostname > ${out}.tmp; mv ${out}.tmp ${out}`;
      const r = await lxkit(['unshare', '-s', 'UTSNAME|PID', '-H', 'daemonized', '-d', '--', 'sh', '-c', script], { timeout: 20000 });
      assert.is(r.exitCode, 0, r.stderr);
      assert.not.ok(existsSync(out), 'the command waits for the gate');
      const pgrep = async () => (await execa('pgrep', ['-f', `while \\[ ! -e ${gate} \\]`], { reject: false })).stdout.trim() || undefined;
      const command = await until(pgrep, 5000, 'the command');
      const monitor = (await readFile(`/proc/${command}/stat`, 'utf8')).split(') ')[1]!.split(' ')[1]!;
      assert.is((await readFile(`/proc/${monitor}/comm`, 'utf8')).trim(), 'lxkit-monitor', "the command's parent");
      await writeFile(gate, '');
      assert.is((await until(async () => (existsSync(out) ? readFile(out, 'utf8') : undefined), 5000, 'the command to finish')).trim(), 'daemonized');
      // Gone, or a zombie until whoever adopted it reaps it.
      const state = async (pid: string) => readFile(`/proc/${pid}/stat`, 'utf8').then((s) => s.split(') ')[1]![0]!, () => 'gone');
      await until(async () => (['gone', 'Z'].includes(await state(monitor)) ? true : undefined), 5000, 'the monitor to exit');
    } finally {
      // The command ends however the test went.
      await writeFile(gate, '');
    }
  });
});

test("SIGINT to lxkit goes to the command, and lxkit waits for it (a shell on this terminal survives Ctrl-C)", async () => {
  await withTmpDir(async (dir) => {
    const ready = join(dir, 'ready');
    const run = execa(LXKIT_BIN, ['unshare', '-s', 'UTSNAME', '--', 'sh', '-c', `trap 'echo got INT; exit 3' INT; touch ${ready}; while :; do sleep 0.05; done`], {
      reject: false,
      env: { NODE_EXTRA_CA_CERTS: '' },
    });
    try {
      await until(async () => (existsSync(ready) ? true : undefined), 10000, 'the command to run');
      run.kill('SIGINT');
      const r = await run;
      assert.is(r.exitCode, 3, String(r.stderr));
      assert.is(String(r.stdout), 'got INT');
    } finally {
      run.kill('SIGKILL');
    }
  });
});

test.run();
