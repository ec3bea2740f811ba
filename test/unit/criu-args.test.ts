/**
 * The criu plugin's command lines and refusals, from real configs: what a
 * dump and a restore ask of criu (LXC's set of options), the configured bind
 * mounts mapped by name, the container's cgroups as --cgroup-root values,
 * and the configs it refuses, naming the key and where it was set.
 */
import { mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { silentLogger, type CheckpointDump, type ContainerConfig } from '@lxkit/core';
import { belowMount, cgroupMountPoints, cgroupRoots, dumpArgs, freezerOf, lendImages, outerDevices, ptysRefused, restoreArgs, unsupported, type CheckpointedPty } from '@lxkit/plugin-criu';
import { validateText } from '../lib/config.js';
import { withTmpDir } from '../lib/harness.js';

const t = suite('criu plugin');

const CARRIED = 'lxc.console.path = none\nlxc.tty.max = 0\nlxc.net.0.type = empty\n';
const V2 = [{ version: 2 as const, controllers: ['cpu', 'memory'], limit: '/sys/fs/cgroup/lxc.payload.c1', init: '/sys/fs/cgroup/lxc.payload.c1' }];

const dump = (config: ContainerConfig, o: Partial<CheckpointDump> = {}): CheckpointDump => ({
  container: { name: 'c1', lxcpath: '/var/lib/lxc', config, configFile: undefined },
  log: silentLogger,
  directory: '/ck',
  stop: false,
  preDump: false,
  verbose: false,
  preservesInodes: false,
  skipInFlight: true,
  pid: 4242,
  cgroups: V2,
  rootfs: '/var/lib/lxc/c1/rootfs',
  ...o,
});

/** The value after `flag` (each one, in order). */
const after = (args: readonly string[], flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));

t('a dump: the tree of the init, frozen through its cgroup, left running unless stopped, with the network lock asked for', async () => {
  const { config } = await validateText(CARRIED);
  const args = dumpArgs(dump(config), { criu: 'criu', networkLock: 'nftables' }, ['/lxc.payload.c1'], '/sys/fs/cgroup/lxc.payload.c1');
  assert.is(args[0], 'dump');
  for (const flag of ['--tcp-established', '--file-locks', '--link-remap', '--manage-cgroups=full', '--enable-external-sharing', '--enable-external-masters', '--skip-in-flight', '--force-irmap', '--leave-running']) {
    assert.ok(args.includes(flag), flag);
  }
  assert.equal(after(args, '--tree'), ['4242']);
  assert.equal(after(args, '--images-dir'), ['/ck']);
  assert.equal(after(args, '--log-file'), ['/ck/dump.log']);
  assert.equal(after(args, '--cgroup-root'), ['/lxc.payload.c1']);
  assert.equal(after(args, '--freeze-cgroup'), ['/sys/fs/cgroup/lxc.payload.c1']);
  assert.equal(after(args, '--network-lock'), ['nftables']);
  assert.equal(after(args, '--ext-mount-map'), ['auto']);
  assert.not.ok(args.includes('-v4'));

  const stopping = dumpArgs(dump(config, { stop: true, verbose: true, actionScript: '/site/cr.sh', previous: '../pre' }), { criu: 'criu', networkLock: undefined }, [], undefined);
  assert.not.ok(stopping.includes('--leave-running'), 'a stop lets criu end the processes');
  assert.not.ok(stopping.includes('--network-lock'));
  assert.not.ok(stopping.includes('--freeze-cgroup'));
  assert.ok(stopping.includes('-v4'));
  assert.equal(after(stopping, '--action-script'), ['/site/cr.sh']);
  assert.equal(after(stopping, '--prev-images-dir'), ['../pre']);

  // LXC's migrate options: a page server for the pages, the same inodes at the restore, no skipping in-flight connections, a ghost limit.
  const migrating = dumpArgs(
    dump(config, { pageServer: { address: '192.0.2.7', port: 27000 }, preservesInodes: true, skipInFlight: false, ghostLimit: 1048576 }),
    { criu: 'criu', networkLock: undefined },
    [],
    undefined,
  );
  assert.ok(migrating.includes('--page-server'));
  assert.equal(after(migrating, '--address'), ['192.0.2.7']);
  assert.equal(after(migrating, '--port'), ['27000']);
  assert.equal(after(migrating, '--ghost-limit'), ['1048576']);
  assert.not.ok(migrating.includes('--force-irmap'), 'the same inodes: watches are found by inode');
  assert.not.ok(migrating.includes('--skip-in-flight'));
  assert.not.ok(args.includes('--page-server') || args.includes('--ghost-limit'), 'none of them by default');

  const pre = dumpArgs(dump(config, { preDump: true }), { criu: 'criu', networkLock: undefined }, [], undefined);
  assert.is(pre[0], 'pre-dump');
  assert.equal(after(pre, '--log-file'), ['/ck/pre-dump.log']);
  assert.not.ok(pre.includes('--leave-running'), 'a pre-dump always leaves the processes running');
});

t('bind mounts are mapped by name: the mount point at a dump, bound from the source again at a restore; other mounts are criu’s to find', async () => {
  const { config } = await validateText(
    `${CARRIED}lxc.mount.entry = /srv/data srv/data none bind,create=dir 0 0\nlxc.mount.entry = /opt opt none rbind,ro 0 0\nlxc.mount.entry = shm dev/shm tmpfs defaults 0 0\n`,
  );
  const d = dumpArgs(dump(config), { criu: 'criu', networkLock: undefined }, [], undefined);
  assert.equal(after(d, '--ext-mount-map'), ['auto', '/srv/data:srv/data', '/opt:opt']);
  const r = restoreArgs(
    { container: dump(config).container, log: silentLogger, directory: '/ck', verbose: false, rootfs: '/var/lib/lxc/c1/rootfs', cgroups: V2, runtimeConfig: () => {}, openPtys: async () => [] },
    ['/lxc.payload.c1-1'],
    '/ck/restore.pid',
  );
  assert.equal(after(r, '--ext-mount-map'), ['auto', 'srv/data:/srv/data', 'opt:/opt']);
  assert.is(r[0], 'restore');
  assert.equal(after(r, '--root'), ['/var/lib/lxc/c1/rootfs']);
  assert.equal(after(r, '--pidfile'), ['/ck/restore.pid']);
  assert.equal(after(r, '--cgroup-root'), ['/lxc.payload.c1-1']);
  assert.ok(r.includes('--restore-sibling') && r.includes('--restore-detached'), "the restored init becomes the monitor's child");
});

t('cgroups: below their hierarchy’s mount point, with the controllers in front on v1; the freezer is the unified cgroup, else the v1 freezer’s', () => {
  const mountinfo = [
    '30 24 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw',
    '31 24 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
    '32 24 0:28 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer',
    '33 24 0:29 / /mnt/with\\040space rw - cgroup2 cgroup2 rw',
    '34 24 0:30 / /proc rw - proc proc rw',
  ].join('\n');
  const points = cgroupMountPoints(mountinfo);
  assert.equal(points, ['/sys/fs/cgroup', '/sys/fs/cgroup/cpu,cpuacct', '/sys/fs/cgroup/freezer', '/mnt/with space']);
  assert.is(belowMount('/sys/fs/cgroup/cpu,cpuacct/lxc.payload.c1', points), '/lxc.payload.c1', 'the longest mount point wins');
  assert.is(belowMount('/sys/fs/cgroup', points), '/');
  assert.is(belowMount('/elsewhere/x', points), undefined);
  const v1 = [
    { version: 1 as const, controllers: ['cpu', 'cpuacct'], limit: '/sys/fs/cgroup/cpu,cpuacct/lxc.payload.c1', init: '/sys/fs/cgroup/cpu,cpuacct/lxc.payload.c1' },
    { version: 1 as const, controllers: ['freezer'], limit: '/sys/fs/cgroup/freezer/lxc.payload.c1', init: '/sys/fs/cgroup/freezer/lxc.payload.c1' },
  ];
  assert.equal(cgroupRoots(v1, points), ['cpu,cpuacct:/lxc.payload.c1', 'freezer:/lxc.payload.c1']);
  assert.is(freezerOf(v1), '/sys/fs/cgroup/freezer/lxc.payload.c1');
  assert.is(freezerOf(V2), '/sys/fs/cgroup/lxc.payload.c1');
  assert.is(freezerOf([]), undefined);
});

t('refused configs name the key and where it is set: a network criu is not given back (a console, ttys and an id map are carried)', async () => {
  assert.is(unsupported((await validateText(CARRIED)).config), undefined);
  assert.is(unsupported((await validateText('lxc.console.path = none\nlxc.net.0.type = none\n')).config), undefined, 'the host network: nothing to carry');
  assert.is(unsupported((await validateText('lxc.tty.max = 4\nlxc.net.0.type = empty\n')).config), undefined, 'the console and four ttys');
  assert.is(unsupported((await validateText(`${CARRIED}lxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\n`)).config), undefined, 'an unprivileged container');
  const base = 'lxc.console.path = none\nlxc.tty.max = 0\n';
  assert.match(unsupported((await validateText(`${base}lxc.net.0.type = phys\nlxc.net.0.link = dummy0\n`)).config)!, /^lxc\.net\.0\.type = phys \(test\.conf:3\): only empty, none, veth and macvlan networks are restored yet/);
  assert.match(unsupported((await validateText(`${base}lxc.net.0.type = macvlan\n`)).config)!, /^lxc\.net\.0\.type = macvlan \(test\.conf:3\): a restore makes the macvlan on lxc\.net\.0\.link, and none is set/);
  assert.match(
    unsupported((await validateText(`${base}lxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.0.veth.ipv4.route = 10.1.0.0/16\n`)).config)!,
    /^lxc\.net\.0\.veth\.ipv4\.route \(test\.conf:5\): a restore makes the veth again, but not routes on the host/,
  );
  assert.match(unsupported((await validateText(`${base}lxc.net.0.type = veth\nlxc.net.0.veth.mode = router\n`)).config)!, /^lxc\.net\.0\.veth\.mode \(test\.conf:4\): .*router mode's routes/);
});

t('devices outside the container are made again by criu: a veth named as configured (or anew) on its bridge, a macvlan on its parent, named inside as the start names them', async () => {
  const { config } = await validateText(
    'lxc.console.path = none\nlxc.tty.max = 0\n' +
      'lxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.0.veth.pair = vc1\n' +
      'lxc.net.1.type = veth\n' +
      'lxc.net.2.type = macvlan\nlxc.net.2.link = eth9\nlxc.net.2.name = mv0\n' +
      'lxc.net.3.type = empty\n',
  );
  assert.is(unsupported(config), undefined);
  const devices = outerDevices(config, 'c1');
  assert.equal(
    devices.map((d) => [d.index, d.type, d.inside, d.bridge]),
    [
      [0, 'veth', 'eth0', 'br0'],
      [1, 'veth', 'eth1', undefined],
      [2, 'macvlan', 'mv0', undefined],
    ],
  );
  assert.is(devices[0]!.outside, 'vc1');
  assert.match(devices[1]!.outside, /^veth[A-Za-z0-9]{6}$/);
  const r = restoreArgs(
    { container: dump(config).container, log: silentLogger, directory: '/ck', verbose: false, rootfs: '/r', cgroups: V2, runtimeConfig: () => {}, openPtys: async () => [] },
    [],
    '/ck/restore.pid',
    devices,
  );
  assert.equal(after(r, '--external'), ['veth[eth0]:vc1@br0', `veth[eth1]:${devices[1]!.outside}`, 'macvlan[mv0]:eth9']);
});

t('the console and ttys: external ptys and external mounts at a dump; the new ptys inherited and bound where the old ones were at a restore; a config that cannot give them back is refused', async () => {
  const ptys: CheckpointedPty[] = [
    { kind: 'console', index: 0, id: 'tty[8800:2d]', mountpoints: ['/dev/lxc/console', '/dev/console'] },
    { kind: 'tty', index: 1, id: 'tty[8801:2d]', mountpoints: ['/dev/lxc/tty1'] },
    { kind: 'tty', index: 2, id: 'tty[8802:2d]', mountpoints: ['/dev/lxc/tty2'] },
  ];
  const { config } = await validateText('lxc.tty.max = 2\nlxc.tty.dir = lxc\nlxc.net.0.type = empty\n');
  const d = dumpArgs(dump(config), { criu: 'criu', networkLock: undefined }, [], undefined, ptys);
  assert.equal(after(d, '--external'), ['tty[8800:2d]', 'tty[8801:2d]', 'tty[8802:2d]']);
  assert.equal(after(d, '--ext-mount-map'), ['auto', '/dev/lxc/console:dev/lxc/console', '/dev/console:dev/console', '/dev/lxc/tty1:dev/lxc/tty1', '/dev/lxc/tty2:dev/lxc/tty2']);
  const pre = dumpArgs(dump(config, { preDump: true }), { criu: 'criu', networkLock: undefined }, [], undefined, ptys);
  assert.equal(after(pre, '--external'), after(d, '--external'), 'a pre-dump names them too');

  const opened = ptys.map((p, i) => ({ ...p, path: `/dev/pts/${7 + i}`, fd: 3 + i }));
  const r = restoreArgs(
    { container: dump(config).container, log: silentLogger, directory: '/ck', verbose: false, rootfs: '/r', cgroups: V2, runtimeConfig: () => {}, openPtys: async () => [] },
    [],
    '/ck/restore.pid',
    [],
    opened,
  );
  assert.equal(after(r, '--inherit-fd'), ['fd[3]:tty[8800:2d]', 'fd[4]:tty[8801:2d]', 'fd[5]:tty[8802:2d]']);
  assert.equal(after(r, '--ext-mount-map'), ['auto', 'dev/lxc/console:/dev/pts/7', 'dev/console:/dev/pts/7', 'dev/lxc/tty1:/dev/pts/8', 'dev/lxc/tty2:/dev/pts/9']);

  assert.is(ptysRefused(ptys, config), undefined);
  assert.is(ptysRefused([], (await validateText('lxc.console.path = none\nlxc.tty.max = 0\n')).config), undefined, 'nothing to give back');
  assert.is(
    ptysRefused(ptys, (await validateText('lxc.tty.max = 2\nlxc.console.path = none\n')).config),
    'the checkpoint has a console, and lxc.console.path = none (test.conf:2) gives it none',
  );
  assert.is(ptysRefused(ptys, (await validateText('lxc.tty.max = 1\n')).config), 'the checkpoint has tty 2, and lxc.tty.max = 1 (test.conf:1) gives fewer');
});

t("an unprivileged container's images: lent to its root for the restore, the pre-dumps they build on too (criu's parent links), and given back", () =>
  withTmpDir(async (tmp) => {
    const pre = join(tmp, 'pre');
    const ck = join(tmp, 'ck');
    await mkdir(pre, { mode: 0o700 });
    await mkdir(ck, { mode: 0o700 });
    await writeFile(join(pre, 'pages-1.img'), '', { mode: 0o600 });
    await writeFile(join(ck, 'inventory.img'), '', { mode: 0o600 });
    await writeFile(join(ck, 'note'), '', { mode: 0o600 });
    await symlink('../pre', join(ck, 'parent'));
    const files = [ck, join(ck, 'inventory.img'), join(ck, 'note'), pre, join(pre, 'pages-1.img')];
    const owners = async () => Promise.all(files.map(async (f) => `${(await stat(f)).uid}:${(await stat(f)).gid}`));
    const was = await owners();
    const giveBack = await lendImages(ck, 100000, 100007);
    assert.equal(await owners(), files.map(() => '100000:100007'));
    await writeFile(join(ck, 'restore.log'), '');
    await giveBack();
    assert.equal(await owners(), was);
    assert.is((await stat(join(ck, 'restore.log'))).uid, process.getuid!(), 'what the restore wrote stays as it was written');
  }),
);

t.run();
