/**
 * System containers on real namespaces: a busybox container made by the
 * template, started in the foreground, its mounts, read-only rootfs,
 * symlink-escaping mount targets, user namespaces, and bad input.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Container, isLxkitError, type ContainerState } from '@lxkit/core';
import { execa } from 'execa';
import { asNobodyIn, hostMounts, LXKIT_BIN, lxkit, monitorsUnder, until, withScratch, withSubordinateIds, type Scratch } from '../lib/harness.js';

async function busybox(s: Scratch, name: string, ...args: string[]): Promise<string> {
  const r = await lxkit(['create', '-n', name, '-P', s.lxcpath, '-t', 'busybox', ...(args.length ? ['--', ...args] : [])], { env: s.env });
  assert.is(r.exitCode, 0, r.stderr);
  return join(s.lxcpath, name);
}


const start = suite('lxkit start (foreground)');

start('a busybox container starts, runs its command as PID 1 with its host name and its own /proc, and stops', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'bb', '--privileged');
    const before = await hostMounts();
    const r = await lxkit(['start', '-n', 'bb', '-P', s.lxcpath, '-F', '--', '/bin/sh', '-c', 'echo $$; hostname; ls /proc | grep "^[0-9]" | sort -n | tail -1; grep -c . /proc/mounts; ls -1 /dev/tty1 /dev/console /dev/null'], {
      env: s.env,
      input: '',
    });
    assert.is(r.exitCode, 0, r.stderr);
    const [pid, host, highest, mounts, ...devs] = r.stdout.replace(/\r/g, '').split('\n');
    assert.equal([pid, host], ['1', 'bb']);
    assert.ok(Number(highest) < 10, `only the container's processes (highest ${highest})`);
    assert.ok(Number(mounts) >= 6, 'the container has its mounts');
    assert.equal(devs, ['/dev/console', '/dev/null', '/dev/tty1']);
    assert.equal(await hostMounts(), before, 'none of them on the host');
  });
});

start("lxc.autodev's /dev is LXC's: nodes of mode 0666 that any user may write to, a plain tmpfs of the size asked for in bytes, a boot id of the container's own", async () => {
  await withScratch(async (s) => {
    await busybox(s, 'bb', '--privileged');
    // As nobody: lxkit's own umask (022) must not reach the nodes, as it does not reach LXC's.
    const nodes = ['/dev/full', '/dev/null', '/dev/random', '/dev/tty', '/dev/urandom', '/dev/zero'];
    const script = [
      `stat -c '%n %A %t,%T' ${nodes.join(' ')} /dev/.lxc-boot-id`,
      'echo x > /dev/null && echo written',
      // The mount's own options and the tmpfs's: after the " - " of mountinfo's line.
      `grep ' /dev rw' /proc/self/mountinfo | sed -e 's/^[^ ]* [^ ]* [^ ]* [^ ]* [^ ]* //' -e 's/ .* - / - /'`,
      'cat /dev/.lxc-boot-id /proc/sys/kernel/random/boot_id',
      `grep ' /proc/sys/kernel/random/boot_id ' /proc/self/mountinfo | sed -e 's/^[^ ]* [^ ]* [^ ]* //' -e 's/ - .*//' -e 's/ shared:[0-9]*//'`,
    ].join('; ');
    const run = () =>
      lxkit(['execute', '-n', 'bb', '-P', s.lxcpath, '-u', '65534', '-g', '65534', '-s', 'lxc.autodev.tmpfs.size=1000000', '--', '/bin/sh', '-c', script], { env: s.env });
    const r = await run();
    assert.is(r.exitCode, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines.slice(0, 9), [
      '/dev/full crw-rw-rw- 1,7',
      '/dev/null crw-rw-rw- 1,3',
      '/dev/random crw-rw-rw- 1,8',
      '/dev/tty crw-rw-rw- 5,0',
      '/dev/urandom crw-rw-rw- 1,9',
      '/dev/zero crw-rw-rw- 1,5',
      '/dev/.lxc-boot-id -r--r--r-- 0,0',
      'written',
      // 1000000 bytes, in whole pages (as LXC's: neither nosuid nor noexec).
      'rw,relatime - tmpfs none rw,size=980k,mode=755',
    ]);
    const [file, seen] = lines.slice(9, 11);
    assert.match(file!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a random (version 4) id');
    assert.is(seen, file, 'the kernel\'s boot_id is the container\'s own');
    assert.is.not(seen, readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), "not the host's");
    assert.is(lines[11], '/.lxc-boot-id /proc/sys/kernel/random/boot_id ro,nosuid,nodev,noexec,relatime', 'bound read-only from the /dev tmpfs');
    const again = (await run()).stdout.split('\n')[9];
    assert.is.not(again, file, 'another start, another boot id');
  });
});

start('configured mounts are there; a read-only rootfs refuses writes', async () => {
  await withScratch(async (s) => {
    const dir = await busybox(s, 'bb', '--privileged');
    const shared = join(s.dir, 'shared');
    await mkdir(shared);
    await writeFile(join(shared, 'hello'), 'from the host\n');
    // The mount point exists: on a read-only rootfs nothing can be created (create=dir would fail, as in LXC).
    await mkdir(join(dir, 'rootfs/srv/shared'), { recursive: true });
    await appendFile(join(dir, 'config'), `lxc.mount.entry = ${shared} srv/shared none bind,ro 0 0\nlxc.rootfs.options = ro\n`);
    const r = await lxkit(
      ['start', '-n', 'bb', '-P', s.lxcpath, '-F', '--', '/bin/sh', '-c', 'cat /srv/shared/hello; touch /srv/shared/x 2>&1; touch /newfile 2>&1; echo end'],
      { env: s.env, input: '' },
    );
    assert.is(r.exitCode, 0, r.stderr);
    const lines = r.stdout.replace(/\r/g, '').split('\n');
    assert.is(lines[0], 'from the host', r.stdout);
    assert.match(lines[1]!, /Read-only file system/);
    assert.match(lines[2]!, /Read-only file system/);
    assert.is(lines[3], 'end');
    assert.not.ok(existsSync(join(dir, 'rootfs/newfile')));
  });
});

start('a mount entry whose target symlinks out of the rootfs is refused, and the host is untouched', async () => {
  await withScratch(async (s) => {
    const dir = await busybox(s, 'bb', '--privileged');
    const outside = join(s.dir, 'outside');
    await mkdir(outside);
    await symlink(outside, join(dir, 'rootfs/mnt/escape'));
    await symlink('../../../../../../../..' + outside, join(dir, 'rootfs/mnt/climb'));
    // Also when the directories are to be made: below the escaping link, nothing is made on the host either.
    for (const [target, options] of [['mnt/escape', 'defaults'], ['mnt/climb', 'defaults'], ['mnt/escape/a/b', 'create=dir']] as const) {
      const cfg = (await readFile(join(dir, 'config'), 'utf8')) + `lxc.mount.entry = none ${target} tmpfs ${options} 0 0\n`;
      const file = join(s.dir, `${target.replaceAll('/', '-')}.conf`);
      await writeFile(file, cfg);
      const r = await lxkit(['start', '-n', 'bb', '-P', s.lxcpath, '-F', '-f', file, '--', '/bin/true'], { env: s.env, input: '' });
      assert.is(r.exitCode, 1, target);
      assert.match(r.stderr, new RegExp(`mounting none on /${target} \\(${file}:\\d+: lxc\\.mount\\.entry\\): EXDEV: the path leaves the container's root filesystem`), r.stderr);
      assert.equal(await hostMounts().then((m) => m.filter((p) => p.startsWith(outside))), [], 'nothing mounted on the host directory');
      assert.equal(await readdir(outside), [], 'nothing made in the host directory');
    }
  });
});

start("with lxc.idmap u 0 100000 65536, uid 0 inside is 100000 outside", async () => {
  await withScratch(async (s) => {
    const dir = await busybox(s, 'bb', '--privileged');
    await appendFile(join(dir, 'config'), 'lxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\nlxc.rootfs.options = idmap=container\n');
    const c = new Container('bb', { lxcpath: s.lxcpath });
    const states: ContainerState[] = [];
    let running!: () => void;
    const isRunning = new Promise<void>((r) => (running = r));
    const run = c.start({
      foreground: true,
      // Its root administers its network namespace, which its user namespace owns (never one made ahead by the monitor,
      // root's), and its first op brought its loopback up.
      command: ['/bin/sh', '-c', 'ip link add v0 type veth peer name v1 && ip link show lo | grep -q "<LOOPBACK,UP" && sleep 2'],
      console: false,
      onState: (st) => {
        states.push(st);
        if (st === 'RUNNING') running();
      },
    });
    await Promise.race([isRunning, run]);
    const pid = await c.initPid();
    assert.ok(pid, 'the init pid is known while it runs');
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    assert.match(status, /^Uid:\s+100000\s+100000\s+100000\s+100000$/m);
    assert.match(status, /^Gid:\s+100000\s+100000\s+100000\s+100000$/m);
    const { exit } = await run;
    assert.equal(exit, { code: 0, signal: 0 });
    assert.equal(states, ['STARTING', 'RUNNING', 'STOPPING', 'STOPPED']);
    assert.is(await c.state(), 'STOPPED');
  });
});

start('the busybox template makes unprivileged containers by default', async () => {
  await withScratch(async (s) => {
    const dir = await busybox(s, 'bb');
    const config = await readFile(join(dir, 'config'), 'utf8');
    assert.match(config, /^lxc\.idmap = u 0 100000 65536$/m);
    assert.match(config, /^lxc\.idmap = g 0 100000 65536$/m);
    assert.is(await readFile(s.env['LXKIT_SUBUID']!, 'utf8'), 'root:100000:65536\n', "root's range was added");
    const r = await lxkit(['start', '-n', 'bb', '-P', s.lxcpath, '-F', '--', '/bin/sh', '-c', 'id -u; cat /proc/self/uid_map | tr -s " "; stat -c %u /bin/busybox'], { env: s.env, input: '' });
    assert.is(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout.replace(/\r/g, '').split('\n'), ['0', ' 0 100000 65536', '0']);
  });
});

start('a bind mount of a missing source names the source and the config line, and leaves nothing mounted', async () => {
  await withScratch(async (s) => {
    const dir = await busybox(s, 'bb', '--privileged');
    const config = join(dir, 'config');
    const lines = (await readFile(config, 'utf8')).split('\n').length;
    await appendFile(config, `lxc.mount.entry = ${join(s.dir, 'nowhere')} mnt none bind 0 0\n`);
    const before = await hostMounts();
    const r = await lxkit(['start', '-n', 'bb', '-P', s.lxcpath, '-F', '--', '/bin/true'], { env: s.env, input: '' });
    assert.is(r.exitCode, 1);
    assert.match(r.stderr, `mounting ${join(s.dir, 'nowhere')} on /mnt (${config}:${lines}: lxc.mount.entry): ENOENT: no such file or directory, mount '${join(s.dir, 'nowhere')}'`);
    assert.equal(await hostMounts(), before);
  });
});

start('destroy -f stops a running container first; without -f a running container is kept', async () => {
  await withScratch(async (s) => {
    const dir = await busybox(s, 'bb', '--privileged');
    const c = new Container('bb', { lxcpath: s.lxcpath });
    let up!: () => void;
    const isUp = new Promise<void>((r) => (up = r));
    const running = c.start({ foreground: true, command: ['/bin/sleep', '60'], console: false, onState: (st) => st === 'RUNNING' && up() });
    await Promise.race([isUp, running]);
    const refused = await lxkit(['destroy', '-n', 'bb', '-P', s.lxcpath], { env: s.env });
    assert.is(refused.exitCode, 1);
    assert.ok(existsSync(dir));
    const forced = await lxkit(['destroy', '-n', 'bb', '-P', s.lxcpath, '-f'], { env: s.env });
    assert.is(forced.exitCode, 0, forced.stderr);
    assert.equal((await running).exit, { code: 137, signal: 9 }, 'its init was killed');
    assert.not.ok(existsSync(dir), 'and the container removed');
    assert.equal((await lxkit(['ls', '-P', s.lxcpath], { env: s.env })).stdout, '');
  });
});

start('a user other than root creates, runs and destroys an unprivileged container (newuidmap, newgidmap, a user namespace for its files)', async () => {
  // newuidmap reads /etc/subuid and /etc/subgid only: nobody gets a range there for the test.
  await withSubordinateIds('nobody:300000:65536', () =>
    withScratch(async (s) => {
      const asNobody = await asNobodyIn(s);
      const created = await asNobody(['create', '-n', 'u', '-t', 'busybox']);
      assert.is(created.exitCode, 0, created.stderr);
      const config = await readFile(join(s.lxcpath, 'u/config'), 'utf8');
      assert.match(config, /^lxc\.idmap = u 0 300000 65536$/m);
      assert.not.match(config, /idmap=container/, 'idmapped mounts are root\'s to make');
      const owner = (await execa('stat', ['-c', '%u:%g', join(s.lxcpath, 'u/rootfs/bin/busybox')])).stdout;
      assert.is(owner, '300000:300000', "the rootfs belongs to the container's root");

      const r = await asNobody(['execute', '-n', 'u', '--', '/bin/sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u /bin/busybox; exit 3']);
      assert.is(r.exitCode, 3, r.stderr);
      assert.equal(r.stdout.split('\n').map((l) => l.trim().split(/\s+/).join(' ')), ['0 300000 65536', '0 300000 65536', '0', '0']);

      const destroyed = await asNobody(['destroy', '-n', 'u']);
      assert.is(destroyed.exitCode, 0, destroyed.stderr);
      assert.not.ok(existsSync(join(s.lxcpath, 'u')), 'everything removed, the files of the subordinate ids too');
    }),
  );
});

start('when lxkit and its monitor are killed, the container dies with them, with or without a user namespace', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'priv', '--privileged');
    await busybox(s, 'unpriv');
    for (const name of ['priv', 'unpriv']) {
      // In a process group of its own, as a terminal would have it: SIGKILL to the group takes lxkit and the monitor.
      const cli = execa(LXKIT_BIN, ['start', '-n', name, '-P', s.lxcpath, '-F', '--', '/bin/sleep', '60'], {
        env: { ...s.env, NODE_EXTRA_CA_CERTS: '' },
        detached: true,
        stdin: 'ignore',
        reject: false,
      });
      const c = new Container(name, { lxcpath: s.lxcpath });
      const pid = await until(async () => ((await c.state()) === 'RUNNING' ? c.initPid() : undefined), 15_000, `${name} running`);
      process.kill(-cli.pid!, 'SIGKILL');
      await cli;
      await until(async () => !existsSync(`/proc/${pid}`) || undefined, 5_000, `the init of ${name} (pid ${pid}) ended`);
    }
  });
});

start('bad input: missing rootfs, missing init, unknown template, invalid names, a container already running', async () => {
  await withScratch(async (s) => {
    const dir = await busybox(s, 'bb', '--privileged');
    const noRootfs = join(s.dir, 'norootfs.conf');
    await writeFile(noRootfs, `lxc.rootfs.path = dir:${join(s.dir, 'nowhere')}\n`);
    const r1 = await lxkit(['start', '-n', 'bb', '-P', s.lxcpath, '-F', '-f', noRootfs], { env: s.env, input: '' });
    assert.is(r1.exitCode, 1);
    assert.match(r1.stderr, new RegExp(`the root filesystem ${join(s.dir, 'nowhere')} of container "bb" does not exist`));
    await until(async () => (monitorsUnder(s.dir).length === 0 ? true : undefined), 5000, 'the monitor spawned for the failed start gone');
    const badKey = join(s.dir, 'badkey.conf');
    await writeFile(badKey, 'lxc.no.such.key = 1\n');
    const r2 = await lxkit(['start', '-n', 'bb', '-P', s.lxcpath, '-F', '-f', badKey], { env: s.env, input: '' });
    assert.is(r2.exitCode, 1);
    assert.match(r2.stderr, /lxc\.no\.such\.key/);
    await until(async () => (monitorsUnder(s.dir).length === 0 ? true : undefined), 5000, 'no monitor left by a config error');

    const c = new Container('bb', { lxcpath: s.lxcpath });
    const states: ContainerState[] = [];
    try {
      await c.start({ foreground: true, command: ['/sbin/nope'], console: false, onState: (st) => states.push(st) });
      assert.unreachable('a missing init must fail');
    } catch (err) {
      assert.is((err as NodeJS.ErrnoException).code, 'ENOENT');
      assert.match((err as Error).message, /executing the container's init \/sbin\/nope: ENOENT/);
    }
    assert.equal(states, ['STARTING', 'ABORTING', 'STOPPING', 'STOPPED']);

    const unknown = await lxkit(['create', '-n', 'x', '-P', s.lxcpath, '-t', 'nosuch'], { env: s.env });
    assert.is(unknown.exitCode, 1);
    assert.match(unknown.stderr, /unknown template "nosuch"/);
    assert.not.ok(existsSync(join(s.lxcpath, 'x')), 'nothing left behind');
    const dup = await lxkit(['create', '-n', 'bb', '-P', s.lxcpath, '-t', 'busybox'], { env: s.env });
    assert.match(dup.stderr, /container "bb" already exists/);
    assert.ok(existsSync(join(dir, 'rootfs/bin/busybox')), 'the existing container is untouched');
    for (const [bad, why] of [
      ['../x', "contains '/'"],
      ['a/b', "contains '/'"],
      ['..', "starts with '.'"],
      ['.hidden', "starts with '.'"],
      ['a\tb', 'contains a control character'],
      ['x'.repeat(201), 'is longer than 200 bytes'],
    ]) {
      const r = await lxkit(['start', '-n', bad!, '-P', s.lxcpath, '-F'], { env: s.env });
      assert.is(r.exitCode, 1);
      assert.match(r.stderr, `invalid container name ${JSON.stringify(bad)}: it ${why}`);
    }
    const empty = await lxkit(['start', '-n', '', '-P', s.lxcpath, '-F'], { env: s.env });
    assert.equal([empty.exitCode, empty.stderr.trim()], [1, 'lxkit-start: a container name is required (-n NAME)']);
    assert.throws(() => new Container('', { lxcpath: s.lxcpath }), (err: Error) => isLxkitError(err, 'LXKIT_CONTAINER_NAME_INVALID'));

    let up!: () => void;
    const isUp = new Promise<void>((r) => (up = r));
    const running = c.start({ foreground: true, command: ['/bin/sleep', '2'], console: false, onState: (st) => st === 'RUNNING' && up() });
    await Promise.race([isUp, running]);
    const second = await lxkit(['start', '-n', 'bb', '-P', s.lxcpath, '-F', '--', '/bin/true'], { env: s.env, input: '' });
    assert.is(second.exitCode, 1);
    assert.match(second.stderr, /cannot start container "bb": it is running or busy/);
    const destroy = await lxkit(['destroy', '-n', 'bb', '-P', s.lxcpath], { env: s.env });
    assert.match(destroy.stderr, /cannot destroy container "bb": it is running or busy/);
    await running;
    try {
      await new Container('nope', { lxcpath: s.lxcpath }).start({ foreground: true, console: false });
      assert.unreachable();
    } catch (err) {
      assert.ok(isLxkitError(err, 'LXKIT_CONTAINER_NOT_FOUND'));
    }
  });
});

start("lxc-start's --share-net/-uts/-pid NAME|PID join a running container's namespaces (its name kept, as LXC keeps it); -C is accepted", async () => {
  await withScratch(async (s) => {
    await busybox(s, 'host1', '--privileged');
    await busybox(s, 'guest', '--privileged');
    const probe = 'for n in net uts ipc pid; do readlink /proc/self/ns/$n; done; hostname; echo $$';
    try {
      assert.is((await lxkit(['start', '-n', 'host1', '-P', s.lxcpath, '-d', '--', 'sleep', '60'], { env: s.env })).exitCode, 0);
      const pid = (await lxkit(['info', '-n', 'host1', '-P', s.lxcpath, '-pH'], { env: s.env })).stdout;
      const theirs = await Promise.all(['net', 'uts', 'ipc', 'pid'].map((n) => readlink(`/proc/${pid}/ns/${n}`)));
      const r = await lxkit(['start', '-n', 'guest', '-P', s.lxcpath, '-F', '-C', '--share-net', 'host1', '--share-uts', pid, '--share-pid', 'host1', '--', 'sh', '-c', probe], {
        env: s.env,
        input: '',
      });
      assert.is(r.exitCode, 0, r.stderr);
      const [net, uts, ipc, pidns, host, self] = r.stdout.replace(/\r/g, '').split('\n');
      assert.equal([net, uts, pidns, host], [theirs[0], theirs[1], theirs[3], 'host1']);
      assert.is.not(ipc, theirs[2], 'its own IPC namespace');
      assert.is.not(self, '1', 'not the first process of the pid namespace it joined');
    } finally {
      await lxkit(['stop', '-n', 'host1', '-P', s.lxcpath, '-k'], { env: s.env });
    }
  });
});

start("create, ls and destroy; any name LXC takes, a space included, but a hidden directory's", async () => {
  await withScratch(async (s) => {
    await busybox(s, 'b1', '--privileged');
    await busybox(s, 'a2', '--privileged');
    await busybox(s, 'web 1', '--privileged');
    // Not a container for LXC's lxc-ls either.
    await mkdir(join(s.lxcpath, '.hidden'));
    await writeFile(join(s.lxcpath, '.hidden/config'), '');
    assert.is((await lxkit(['ls', '-P', s.lxcpath], { env: s.env })).stdout, 'a2\nb1\nweb 1');
    const web = await lxkit(['start', '-n', 'web 1', '-P', s.lxcpath, '-F', '--', 'hostname'], { env: s.env, input: '' });
    assert.equal([web.exitCode, web.stdout.trim()], [0, 'web 1'], web.stderr);
    const d = await lxkit(['destroy', '-n', 'b1', '-P', s.lxcpath], { env: s.env });
    assert.is(d.exitCode, 0, d.stderr);
    assert.is((await lxkit(['destroy', '-n', 'web 1', '-P', s.lxcpath], { env: s.env })).exitCode, 0);
    assert.is((await lxkit(['ls', '-P', s.lxcpath], { env: s.env })).stdout, 'a2');
    const again = await lxkit(['destroy', '-n', 'b1', '-P', s.lxcpath], { env: s.env });
    assert.match(again.stderr, /container "b1" does not exist/);
  });
});

start.run();
