/**
 * lxkit copy -e (ephemeral copies: a command in one, daemon and foreground,
 * -D, bind and overlay mounts) and lxkit copy -R (rename), on real
 * containers, compared with LXC's lxc-copy where it is installed. Nothing
 * is left: no container, mount or cgroup.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { withLxcBusybox } from '../lib/lxc-busybox.js';
import { busyboxIn, hostMounts, lxkitIn, testIf, until, which, withScratch, type Scratch } from '../lib/harness.js';

const t = suite('copy-ephemeral');

const LXC_MISSING = which('lxc-copy') ? undefined : "Debian's lxc package is not installed (npm run setup installs it)";
const mountsUnder = async (dir: string) => (await hostMounts()).filter((m) => m.startsWith(dir));
const gone = (s: Scratch, name: string) => until(async () => (existsSync(join(s.lxcpath, name)) ? undefined : true), 10_000, `${name} to be removed`);

t('copy -e -- CMD runs CMD in an ephemeral overlay copy (a new name, the exit status) and removes it; without a command it runs until stopped; -D keeps it', () =>
  withScratch(async (s) => {
    await busyboxIn(s, 'bb');
    const r = await lxkitIn(s, 'copy', '-n', 'bb', '-e', '--', '/bin/sh', '-c', 'hostname; echo changed > /etc/motd; exit 3');
    assert.is(r.exitCode, 3, r.stderr);
    const [created, host] = r.stdout.split('\n');
    const name = /^Created (bb_[A-Za-z0-9]{6}) as clone of bb$/.exec(created ?? '')?.[1];
    assert.ok(name, r.stdout);
    assert.is(host, name, 'its host name is its own');
    await gone(s, name!);
    assert.equal(readdirSync(s.lxcpath), ['bb'], 'nothing but the original is left');
    assert.not.ok(existsSync(join(s.lxcpath, 'bb', 'lxc_snapshots')), 'the origin no longer lists it');
    assert.is.not(await readFile(join(s.lxcpath, 'bb', 'rootfs', 'etc', 'motd'), 'utf8').catch(() => ''), 'changed\n', 'the original is untouched');

    const d = await lxkitIn(s, 'copy', '-n', 'bb', '-e', '-N', 'e1');
    assert.is(d.exitCode, 0, d.stderr);
    assert.match(await readFile(join(s.lxcpath, 'e1', 'config'), 'utf8'), /^lxc\.ephemeral = 1$/m);
    assert.is((await lxkitIn(s, 'info', '-n', 'e1', '-s')).stdout.trim().split(/\s+/).at(-1), 'RUNNING');
    assert.is((await lxkitIn(s, 'stop', '-n', 'e1', '-k')).exitCode, 0);
    await gone(s, 'e1');

    const k = await lxkitIn(s, 'copy', '-n', 'bb', '-e', '-N', 'k1', '-D');
    assert.is(k.exitCode, 0, k.stderr);
    assert.not.match(await readFile(join(s.lxcpath, 'k1', 'config'), 'utf8'), /lxc\.ephemeral/);
    assert.is((await lxkitIn(s, 'stop', '-n', 'k1', '-k')).exitCode, 0);
    assert.ok(existsSync(join(s.lxcpath, 'k1', 'config')), '-D keeps it');
    assert.is((await lxkitIn(s, 'destroy', '-n', 'k1')).exitCode, 0);
    assert.equal(await mountsUnder(s.dir), []);
  }),
);

t('copy -e -m: a read-only bind mount and an overlay mount whose writes stay in the copy; bad mounts and flags are refused with nothing made', () =>
  withScratch(async (s) => {
    await busyboxIn(s, 'bb');
    const host = join(s.dir, 'host');
    await mkdir(join(host, 'ro'), { recursive: true });
    await mkdir(join(host, 'ov'));
    await writeFile(join(host, 'ro', 'f'), 'bound\n');
    await writeFile(join(host, 'ov', 'g'), 'lower\n');
    const script = 'cat /mnt/ro/f; echo x > /mnt/ro/new 2>/dev/null && echo WROTE; cat /mnt/ov/g; echo upper > /mnt/ov/g; cat /mnt/ov/g';
    const r = await lxkitIn(s, 'copy', '-n', 'bb', '-e', '-N', 'm1', '-m', `bind=${host}/ro:/mnt/ro:ro,overlay=${host}/ov:/mnt/ov`, '--', '/bin/sh', '-c', script);
    assert.is(r.exitCode, 0, r.stderr);
    assert.is(r.stdout, 'Created m1 as clone of bb\nbound\nlower\nupper');
    assert.is(await readFile(join(host, 'ov', 'g'), 'utf8'), 'lower\n', "the overlay's writes stay out of the host directory");
    assert.not.ok(existsSync(join(host, 'ro', 'new')));
    await gone(s, 'm1');
    for (const [args, why] of [
      [['-e', '-m', 'tmpfs=/x'], /"tmpfs=\/x" is no mount/],
      [['-e', '-N', 'm2', '-m', `bind=${host}/nosuch`], /the bind mount's source .*\/nosuch does not exist/],
      [['-N', 'm2', '-D'], /-D is only for an ephemeral copy \(-e\)/],
      [['-e', '-N', 'm2', '-F', '--', '/bin/true'], /a command after -- runs in a daemon copy/],
    ] as const) {
      const bad = await lxkitIn(s, 'copy', '-n', 'bb', ...args);
      assert.is.not(bad.exitCode, 0, args.join(' '));
      assert.match(bad.stderr, why);
    }
    assert.equal(readdirSync(s.lxcpath), ['bb']);
    assert.equal(await mountsUnder(s.dir), []);
  }),
);

t("copy -e -t: the overlay's upper layer is a tmpfs in the container (the disk's delta stays empty); refused for a user namespace and with -D; an overlay container whose pre-mount hook covers its overlay directory as lxc-copy -t's does still starts", () =>
  withScratch(async (s) => {
    await busyboxIn(s, 'bb');
    const r = await lxkitIn(s, 'copy', '-n', 'bb', '-e', '-t', '-N', 't1');
    assert.is(r.exitCode, 0, r.stderr);
    const write = await lxkitIn(s, 'attach', '-n', 't1', '--', '/bin/sh', '-c', 'echo kept > /written && cat /written');
    assert.is(write.exitCode, 0, write.stderr);
    assert.is(write.stdout, 'kept');
    // Only the copy's own /etc/hostname, written at the copy as LXC's clone writes it for -e without -K (the tmpfs covers it in the container).
    const delta = join(s.lxcpath, 't1', 'overlay', 'delta');
    assert.equal((await execa('find', [delta, '-mindepth', '1', '-printf', '%P\n'])).stdout.split('\n').sort(), ['etc', 'etc/hostname'], 'nothing the container wrote reached the disk');
    assert.is((await lxkitIn(s, 'stop', '-n', 't1', '-k')).exitCode, 0);
    await gone(s, 't1');
    await busyboxIn(s, 'ub', '', []);
    for (const [args, why] of [
      [['-n', 'ub', '-e', '-t', '-N', 't2'], /container "t2" cannot be placed on a tmpfs \(-t\): it has lxc\.idmap/],
      [['-n', 'bb', '-e', '-t', '-D', '-N', 't2'], /a copy on a tmpfs \(-t\) cannot keep its data \(-D\)/],
    ] as const) {
      const bad = await lxkitIn(s, 'copy', ...args);
      assert.is(bad.exitCode, 1, args.join(' '));
      assert.match(bad.stderr, why);
    }
    assert.equal(readdirSync(s.lxcpath).sort(), ['bb', 'ub']);
    // LXC's -t hook mounts the tmpfs and makes only the delta: the work directory is lxkit's to make again.
    assert.is((await lxkitIn(s, 'copy', '-n', 'bb', '-s', '-N', 'h1')).exitCode, 0);
    const hook = join(s.lxcpath, 'h1', 'tmpfs-hook');
    await writeFile(hook, `#!/bin/sh\nmount -n -t tmpfs -o mode=0755 none ${s.lxcpath}/h1/overlay\nmkdir -p ${s.lxcpath}/h1/overlay/delta/etc\n`, { mode: 0o755 });
    await writeFile(join(s.lxcpath, 'h1', 'config'), `${await readFile(join(s.lxcpath, 'h1', 'config'), 'utf8')}lxc.hook.pre-mount = ${hook}\n`);
    const run = await lxkitIn(s, 'execute', '-n', 'h1', '--', '/bin/sh', '-c', 'echo y > /y && cat /y');
    assert.is(run.exitCode, 0, run.stderr);
    assert.is(run.stdout, 'y');
    assert.not.ok(existsSync(join(s.lxcpath, 'h1', 'overlay', 'delta', 'y')));
    assert.is((await lxkitIn(s, 'destroy', '-n', 'h1')).exitCode, 0);
    assert.equal(await mountsUnder(s.dir), []);
  }),
);

t('copy -R renames: the new name runs with the hwaddr kept and its host name, the old one is gone; refused while it has snapshots', () =>
  withScratch(async (s) => {
    await busyboxIn(s, 'old', 'lxc.net.0.type = empty\nlxc.net.0.hwaddr = 00:16:3e:12:34:56\n');
    const mac = () => readFile(join(s.lxcpath, 'new', 'config'), 'utf8').then((c) => /^lxc\.net\.0\.hwaddr = (.*)$/m.exec(c)?.[1]);
    assert.is((await lxkitIn(s, 'snapshot', '-n', 'old')).exitCode, 0);
    const refused = await lxkitIn(s, 'copy', '-n', 'old', '-N', 'new', '-R');
    assert.is(refused.exitCode, 1);
    assert.match(refused.stderr, /cannot rename container "old": snapshot snap0 would be left naming it/);
    assert.is((await lxkitIn(s, 'snapshot', '-n', 'old', '-d', 'snap0')).exitCode, 0);
    const r = await lxkitIn(s, 'copy', '-n', 'old', '-N', 'new', '-R');
    assert.is(r.exitCode, 0, r.stderr);
    assert.not.ok(existsSync(join(s.lxcpath, 'old')));
    assert.is(await mac(), '00:16:3e:12:34:56');
    assert.match(await readFile(join(s.lxcpath, 'new', 'config'), 'utf8'), new RegExp(`^lxc\\.rootfs\\.path = dir:${s.lxcpath}/new/rootfs$`, 'm'));
    const run = await lxkitIn(s, 'execute', '-n', 'new', '--', '/bin/hostname');
    assert.is(run.exitCode, 0, run.stderr);
    assert.is(run.stdout, 'new');
    assert.is((await lxkitIn(s, 'destroy', '-n', 'new')).exitCode, 0);
  }),
);

testIf(t, LXC_MISSING, 'lxc-copy -e and lxkit copy -e write the same config (lxc.ephemeral, the bind mount entry) and each removes its copy at stop', () =>
  withLxcBusybox(async (c) => {
    await c.configure('');
    const host = join(c.s.dir, 'host');
    await mkdir(host);
    const where = ['-P', c.s.lxcpath];
    const entries = async (n: string) =>
      (await readFile(join(c.s.lxcpath, n, 'config'), 'utf8'))
        .split('\n')
        .filter((l) => /^lxc\.(ephemeral|mount\.entry) /.test(l) && !l.includes(' proc ') && !l.includes('/sys'))
        .sort();
    try {
      const theirs = await execa('lxc-copy', [...where, '-n', c.name, '-e', '-N', 'theirs', '-m', `bind=${host}:/mnt/h:ro`], { reject: false });
      assert.is(theirs.exitCode, 0, String(theirs.stderr));
      const ours = await lxkitIn(c.s, 'copy', '-n', c.name, '-e', '-N', 'ours', '-m', `bind=${host}:/mnt/h:ro`);
      assert.is(ours.exitCode, 0, ours.stderr);
      assert.is(ours.stdout, String(theirs.stdout).replace('theirs', 'ours'));
      assert.equal(await entries('ours'), await entries('theirs'));
      assert.is((await execa('lxc-stop', [...where, '-n', 'theirs', '-k'], { reject: false })).exitCode, 0);
      assert.is((await lxkitIn(c.s, 'stop', '-n', 'ours', '-k')).exitCode, 0);
      for (const n of ['theirs', 'ours']) await gone(c.s, n);
    } finally {
      for (const n of ['theirs', 'ours']) {
        await execa('lxc-stop', [...where, '-n', n, '-k'], { reject: false });
        await execa('lxc-destroy', [...where, '-n', n, '-f'], { reject: false });
      }
    }
  }),
);

t.run();
