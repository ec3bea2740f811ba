/**
 * What a container's config sets up, checked from inside real containers:
 * process settings (ids, cwd, rlimits, sysctls, /proc files, no_new_privs),
 * the automatic mounts and their read-only parts, /dev, ttys, mount entry
 * options, time offsets, ephemeral containers and namespaces kept or shared.
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Container } from '@lxkit/core';
import { hostMounts, lxkit, withScratch, type Scratch } from '../lib/harness.js';

async function busybox(s: Scratch, name: string, extra: string): Promise<string> {
  const r = await lxkit(['create', '-n', name, '-P', s.lxcpath, '-t', 'busybox', '--', '--privileged'], { env: s.env });
  assert.is(r.exitCode, 0, r.stderr);
  const dir = join(s.lxcpath, name);
  await appendFile(join(dir, 'config'), extra);
  return dir;
}

/** Runs `script` as the container's PID 1 (lxkit start -F -- sh -c SCRIPT); lines of its output. */
async function inside(s: Scratch, name: string, script: string, args: string[] = []): Promise<{ lines: string[]; stderr: string; code: number }> {
  const r = await lxkit(['start', '-n', name, '-P', s.lxcpath, '-F', ...args, '--', '/bin/sh', '-c', script], { env: s.env, input: '' });
  return { lines: r.stdout.replace(/\r/g, '').split('\n'), stderr: r.stderr, code: r.exitCode };
}

const setup = suite('container set-up');

setup('process: ids and groups, cwd, rlimits (a hard limit above lxkit\'s is clamped), sysctl, lxc.proc, no_new_privs, environment', async () => {
  await withScratch(async (s) => {
    const [hard] = (await readFile('/proc/self/limits', 'utf8')).split('\n').filter((l) => l.startsWith('Max open files')).map((l) => l.split(/\s{2,}/)[2]!);
    await busybox(
      s,
      'p',
      [
        'lxc.init.uid = 1000',
        'lxc.init.gid = 1001',
        'lxc.init.groups = 5,20',
        'lxc.init.cwd = /tmp',
        'lxc.prlimit.nofile = 256:unlimited',
        'lxc.prlimit.nproc = 100:200',
        'lxc.sysctl.net.ipv4.ip_forward = 1',
        'lxc.proc.oom_score_adj = 123',
        'lxc.no_new_privs = 1',
        'lxc.environment = ANSWER=42',
        '',
      ].join('\n'),
    );
    const r = await inside(
      s,
      'p',
      'id -u; id -g; id -G; pwd; ulimit -Sn; ulimit -Hn; ulimit -Su; ulimit -Hu; cat /proc/sys/net/ipv4/ip_forward; cat /proc/self/oom_score_adj; grep NoNewPrivs /proc/self/status | tr -s "\\t " " "; echo "$ANSWER $container"',
      ['-l', 'WARN'],
    );
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, ['1000', '1001', '1001 5 20', '/tmp', '256', hard, '100', '200', '1', '123', 'NoNewPrivs: 1', '42 lxc']);
    assert.match(r.stderr, /lxc\.prlimit\.nofile: hard limit unlimited is above lxkit's own/, 'the clamp is said');
  });
});

setup('mounts: proc:mixed and sys:ro are read-only where they must be; /dev has its nodes, ttys in lxc.tty.dir, a new devpts', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'm', 'lxc.tty.dir = lxc\nlxc.tty.max = 2\n');
    const r = await inside(
      s,
      'm',
      [
        '(echo x > /proc/sys/kernel/domainname) 2>/dev/null && echo sysctl-writable || echo sysctl-ro',
        '(echo 1 > /proc/sys/net/ipv4/ip_forward) && echo net-writable',
        // Kernels without CONFIG_MAGIC_SYSRQ have no trigger at all.
        'if [ -e /proc/sysrq-trigger ]; then (echo h > /proc/sysrq-trigger) 2>/dev/null && echo sysrq-writable || echo sysrq-ro; else echo sysrq-ro; fi',
        '(touch /sys/kernel/x) 2>/dev/null; grep " /sys " /proc/mounts | cut -d" " -f4 | cut -d, -f1',
        'grep -c " /proc/sys/net " /proc/mounts',
        'ls /dev | tr "\\n" " "; echo',
        'readlink /dev/tty1; ls /dev/lxc | tr "\\n" " "; echo',
        'grep " /dev/pts " /proc/mounts | cut -d" " -f3,4 | cut -d, -f1; ls /dev/pts | tr "\\n" " "; echo; stat -c %t /dev/lxc/tty1 /dev/console | tr "\\n" " "; echo',
        'stat -c %t:%T /dev/lxc/console /dev/console | tr "\\n" " "; echo',
      ].join('; '),
    );
    assert.is(r.code, 0, r.stderr);
    const [sysctl, net, sysrq, sys, netMounts, dev, tty1, lxcDir, devpts, pts, majors, consoles] = r.lines;
    assert.equal([sysctl, net, sysrq, sys, netMounts], ['sysctl-ro', 'net-writable', 'sysrq-ro', 'ro', '1']);
    for (const node of ['console', 'full', 'null', 'ptmx', 'pts', 'random', 'tty', 'urandom', 'zero', 'fd', 'stdin', 'stdout', 'stderr', 'shm']) {
      assert.ok(dev!.split(' ').includes(node), `/dev/${node} (${dev})`);
    }
    // As LXC lays out lxc.tty.dir: the ttys and the console there, the console also on /dev/console.
    assert.equal([tty1, lxcDir!.trim()], ['lxc/tty1', 'console tty1 tty2']);
    const [inDir, onDev] = consoles!.trim().split(' ');
    assert.is(inDir, onDev, '/dev/lxc/console is /dev/console');
    assert.is(devpts, 'devpts rw', 'a devpts instance of its own on /dev/pts');
    assert.equal(pts!.trim().split(' '), ['0', '1', '2', 'ptmx'], "only the container's own ptys: two ttys and the console");
    assert.is(majors!.trim(), '88 88', 'the ttys and the console are ptys (major 136) of that devpts');
  });
});

setup("an application container's ttys are made but not put on /dev/ttyN or in lxc.tty.dir, as lxc-execute's", async () => {
  await withScratch(async (s) => {
    await busybox(s, 'x', 'lxc.tty.dir = lxc\nlxc.tty.max = 2\n');
    const r = await lxkit(
      ['execute', '-n', 'x', '-P', s.lxcpath, '--', '/bin/sh', '-c', 'ls -d /dev/tty1 /dev/lxc 2>/dev/null | wc -l; ls /dev/pts | tr "\\n" " "'],
      { env: s.env, input: '' },
    );
    assert.is(r.exitCode, 0, r.stderr);
    const [present, pts] = r.stdout.split('\n');
    assert.is(present, '0', 'no /dev/tty1 and no /dev/lxc');
    assert.equal(pts!.trim().split(' '), ['0', '1', 'ptmx'], 'the two ttys are ptys of its devpts (stdio is lxkit\'s: no console)');
  });
});

setup('mount entries: create=file, relative sources, optional missing sources, ro binds; nothing shows on the host', async () => {
  await withScratch(async (s) => {
    const file = join(s.dir, 'motd');
    await writeFile(file, 'host file\n');
    const dir = await busybox(
      s,
      'e',
      [
        `lxc.mount.entry = ${file} etc/motd none bind,ro,create=file 0 0`,
        'lxc.mount.entry = etc srv/etc none bind,ro,relative,create=dir 0 0',
        `lxc.mount.entry = ${join(s.dir, 'missing')} mnt none bind,optional 0 0`,
        'lxc.mount.entry = tmpfs run/scratch tmpfs size=1m,mode=0700,create=dir 0 0',
        // Several directories to make, through a symlink that stays in the rootfs.
        'lxc.mount.entry = tmpfs data/a/b/c tmpfs size=1m,create=dir 0 0',
        '',
      ].join('\n'),
    );
    await mkdir(join(dir, 'rootfs/srv'), { recursive: true });
    await symlink('srv', join(dir, 'rootfs/data'));
    const before = await hostMounts();
    const r = await inside(
      s,
      'e',
      'cat /etc/motd; (echo x > /etc/motd) 2>/dev/null || echo motd-ro; cat /srv/etc/hostname; grep -c " /mnt " /proc/mounts; stat -c %a /run/scratch; grep " /run/scratch " /proc/mounts | cut -d" " -f3; grep -c " /srv/a/b/c tmpfs " /proc/mounts',
    );
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines, ['host file', 'motd-ro', 'e', '0', '700', 'tmpfs', '1']);
    assert.ok(existsSync(join(dir, 'rootfs/srv/a/b/c')), 'made below the link\'s target, in the rootfs');
    assert.equal(await hostMounts(), before);
    assert.is(await readFile(file, 'utf8'), 'host file\n');
  });
});

setup('mount entries with absolute targets, as LXC reads them: below <lxcpath>/<name>/rootfs or the rootfs path they mount there; others are not mounted (a warning says so)', async () => {
  await withScratch(async (s) => {
    const dir = await busybox(s, 'abs', '');
    // The rootfs elsewhere than <lxcpath>/<name>/rootfs, so that the two prefixes differ.
    const elsewhere = join(s.dir, 'elsewhere');
    await execa('mv', [join(dir, 'rootfs'), elsewhere]);
    const fstab = join(s.dir, 'fstab');
    await writeFile(fstab, `tmpfs ${elsewhere}/mnt/f tmpfs size=3m,create=dir 0 0\n`);
    await appendFile(
      join(dir, 'config'),
      [
        `lxc.rootfs.path = dir:${elsewhere}`,
        `lxc.mount.entry = tmpfs ${dir}/rootfs/mnt/a tmpfs size=1m,create=dir 0 0`,
        `lxc.mount.entry = tmpfs ${elsewhere}/mnt/b tmpfs size=2m,create=dir 0 0`,
        'lxc.mount.entry = tmpfs /mnt/outside tmpfs size=4m,create=dir 0 0',
        `lxc.mount.fstab = ${fstab}`,
        '',
      ].join('\n'),
    );
    const r = await inside(s, 'abs', 'grep "^tmpfs /mnt/" /proc/self/mounts | cut -d" " -f2,4', ['-l', 'WARN']);
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.lines.filter(Boolean).sort(), ['/mnt/a rw,relatime,size=1024k', '/mnt/b rw,relatime,size=2048k', '/mnt/f rw,relatime,size=3072k']);
    assert.match(r.stderr, /config:\d+: lxc\.mount\.entry: not mounting tmpfs on \/mnt\/outside: an absolute target must be below the rootfs/);
    // Nothing was made for it either, nor for the others outside the rootfs.
    assert.not.ok(existsSync(join(elsewhere, 'mnt/outside')));
    assert.not.ok(existsSync(join(elsewhere, elsewhere)));
  });
});

setup('lxc.time.offset.boot moves the container\'s boot time; lxc.ephemeral removes the container when it stops', async () => {
  await withScratch(async (s) => {
    await busybox(s, 't', 'lxc.time.offset.boot = 100000s\nlxc.ephemeral = 1\n');
    const host = Number((await readFile('/proc/uptime', 'utf8')).split(' ')[0]);
    const r = await inside(s, 't', 'cut -d" " -f1 /proc/uptime');
    assert.is(r.code, 0, r.stderr);
    const uptime = Number(r.lines[0]);
    assert.ok(uptime - host > 99_990 && uptime - host < 100_100, `uptime ${uptime} vs the host's ${host}`);
    assert.not.ok(existsSync(join(s.lxcpath, 't')), 'the ephemeral container is gone');
  });
});

setup('namespaces: lxc.namespace.keep keeps the host\'s, lxc.namespace.share joins a running container\'s (by name)', async () => {
  await withScratch(async (s) => {
    await busybox(s, 'a', 'lxc.uts.name = first\n');
    await busybox(s, 'b', 'lxc.namespace.share.uts = a\nlxc.namespace.keep = net\n');
    const a = new Container('a', { lxcpath: s.lxcpath });
    let up!: () => void;
    const isUp = new Promise<void>((r) => (up = r));
    const running = a.start({ foreground: true, command: ['/bin/sleep', '30'], console: false, onState: (st) => st === 'RUNNING' && up() });
    await Promise.race([isUp, running]);
    try {
      const hostIfaces = (await readFile('/proc/net/dev', 'utf8')).split('\n').slice(2).filter(Boolean).length;
      // b joins a's uts namespace: it sees a's host name and does not set its own. It keeps the
      // host's network; as with LXC, every namespace it does not keep is new, time included.
      const r = await inside(s, 'b', 'hostname; tail -n +3 /proc/net/dev | grep -c .; readlink /proc/self/ns/time; readlink /proc/self/ns/user');
      assert.is(r.code, 0, r.stderr);
      const [time, user] = [await readlink('/proc/self/ns/time'), await readlink('/proc/self/ns/user')];
      assert.equal(r.lines.slice(0, 2), ['first', String(hostIfaces)]);
      assert.ok(r.lines[2] !== time && /^time:\[[0-9]+\]$/.test(r.lines[2]!), `a new time namespace: ${r.lines[2]} (host ${time})`);
      assert.is(r.lines[3], user, 'no user namespace without lxc.idmap');
    } finally {
      process.kill((await a.initPid())!, 'SIGKILL');
      await running;
    }
  });
});

setup.run();
