/**
 * Every key family is validated and modelled by its owner through the
 * runtime's config hook; these tests go through that real path.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { validateText } from '../lib/config.js';

const core = suite('core keys');

core('a full config models into typed values, with LXC defaults for the rest', async () => {
  const { model, errors, warnings } = await validateText(
    [
      'lxc.uts.name = "c1"',
      'lxc.arch = x86_64',
      'lxc.rootfs.path = dir:/var/lib/lxkit/c1/rootfs',
      'lxc.rootfs.options = ro',
      'lxc.mount.auto = proc:mixed sys:ro cgroup:rw:force',
      'lxc.mount.entry = /srv srv none bind,create=dir 0 0',
      'lxc.idmap = u 0 100000 65536',
      'lxc.idmap = g 0 100000 65536',
      'lxc.hook.pre-start = /bin/true',
      'lxc.hook.version = 1',
      'lxc.tty.max = 4',
      'lxc.pty.max = 1024',
      'lxc.environment = FOO=bar',
      'lxc.environment = HOME',
      'lxc.init.cmd = /sbin/init --verbose',
      'lxc.init.uid = 1000',
      'lxc.init.groups = 10, 20',
      'lxc.prlimit.nofile = 1024:4096',
      'lxc.sysctl.net.ipv4.ip_forward = 1',
      'lxc.signal.halt = SIGRTMIN+3',
      'lxc.namespace.keep = user net',
      'lxc.time.offset.boot = 10s',
      'lxc.log.level = DEBUG',
      'lxc.start.auto = 1',
      'lxc.group = onboot web',
      'lxc.no_new_privs = 1',
      'lxc.autodev.tmpfs.size = 1000000',
    ].join('\n'),
  );
  assert.equal(errors, []);
  assert.equal(warnings, []);
  assert.is(model.utsName, 'c1');
  assert.equal(model.rootfs, { path: 'dir:/var/lib/lxkit/c1/rootfs', options: 'ro', managed: true });
  assert.equal(model.mount.auto, { proc: 'mixed', sys: 'ro', cgroup: { full: false, mode: 'rw', force: true } });
  assert.is(model.mount.entries[0]!.create, 'dir');
  assert.is(model.mount.entries[0]!.origin.line, 6);
  assert.is(model.idmap.length, 2);
  assert.equal(model.hooks['pre-start'], ['/bin/true']);
  assert.is(model.hookVersion, 1);
  assert.equal(model.environment, [{ name: 'FOO', value: 'bar' }, { name: 'HOME' }]);
  assert.equal(model.init, { cmd: '/sbin/init --verbose', uid: 1000, groups: [10, 20] });
  assert.equal(model.prlimit['nofile'], { soft: 1024, hard: 4096 });
  assert.equal(model.sysctl, { 'net.ipv4.ip_forward': '1' });
  assert.equal(model.signals, { halt: 37, reboot: 2, stop: 9 });
  assert.equal(model.namespaces.keep, ['user', 'net']);
  assert.equal(model.timeOffset.boot, { seconds: 10, nanoseconds: 0 });
  assert.is(model.log.level, 'DEBUG');
  assert.equal(model.autostart, { auto: true, delay: 0, order: 0, groups: ['onboot', 'web'] });
  assert.is(model.noNewPrivs, true);
  assert.is(model.autodev.enabled, true, 'LXC enables autodev by default');
  assert.is(model.autodev.tmpfsSize, 1000000, 'bytes, as LXC reads it');
  assert.is(model.keyringSession, true);
});

core("lxc.keyring.session as LXC's code reads it (its man page says the reverse): 1 keeps the starter's session keyring, 0 makes a new one", async () => {
  for (const [value, fresh] of [['1', false], ['0', true], ['', true]] as const) {
    const { model, errors } = await validateText(`lxc.keyring.session = ${value}`);
    assert.equal(errors, []);
    assert.is(model.keyringSession, fresh, `lxc.keyring.session = ${value}`);
  }
});

core('invalid values are problems naming line and key', async () => {
  const { errors } = await validateText(
    [
      'lxc.tty.max = -1',
      'lxc.idmap = u 0 x 1',
      'lxc.signal.halt = PWR',
      'lxc.arch = pdp11',
      'lxc.uts.name = ' + 'x'.repeat(65),
      'lxc.mount.auto = proc:ro',
      'lxc.prlimit.bogus = 1',
      'lxc.hook.version = 2',
      'lxc.hook = /bin/true',
      'lxc.namespace.clone = net flux',
      'lxc.time.offset.boot = 10',
      'lxc.log.syslog = kern',
      'lxc.autodev = yes',
      'lxc.init.groups = a,b',
      'lxc.tty.dir = a/b',
    ].join('\n'),
  );
  assert.equal(errors, [
    '1: lxc.tty.max: expected a number of ttys, got "-1"',
    '2: lxc.idmap: hostid "x" is not a number',
    '3: lxc.signal.halt: "PWR" is not a signal; use a name like SIGPWR or a number',
    '4: lxc.arch: unknown architecture "pdp11"; use one of ' +
      'arm armel armhf armv7l athlon i386 i486 i586 i686 linux32 mips mipsel ppc powerpc x86 aarch64 amd64 arm64 linux64 mips64 mips64el ppc64 ppc64el ppc64le powerpc64 s390x x86_64',
    '5: lxc.uts.name: host name is longer than 64 characters',
    '6: lxc.mount.auto: unknown mount "proc:ro"; use proc[:mixed|:rw], sys[:ro|:mixed|:rw], cgroup[:mixed|:ro|:rw][:force], cgroup-full[…] or shmounts:PATH',
    '7: lxc.prlimit.bogus: unknown resource "bogus"; use one of as core cpu data fsize locks memlock msgqueue nice nofile nproc rss rtprio rttime sigpending stack',
    '8: lxc.hook.version: hook version "2" is not supported; use 0 or 1',
    '9: lxc.hook: lxc.hook only takes an empty value (to clear all hooks); use lxc.hook.<type>',
    '10: lxc.namespace.clone: unknown namespace "flux"; use cgroup ipc mnt net pid time user uts',
    '11: lxc.time.offset.boot: "10" is not a time offset; use an integer with h, min, s, ms, us or ns',
    '12: lxc.log.syslog: unknown syslog facility "kern"; use one of daemon local0 local1 local2 local3 local4 local5 local6 local7',
    '13: lxc.autodev: expected 0 or 1, got "yes"',
    '14: lxc.init.groups: expected a comma-separated list of gids, got "a"',
    "15: lxc.tty.dir: \"a/b\" must be a directory name under /dev, without '/'",
  ]);
});

core('order semantics: empty values clear, later single values win', async () => {
  const { model, errors } = await validateText(
    [
      'lxc.mount.entry = /a a none bind 0 0',
      'lxc.mount.entry =',
      'lxc.mount.entry = /b b none bind 0 0',
      'lxc.uts.name = first',
      'lxc.uts.name = second',
      'lxc.hook.mount = /x',
      'lxc.hook.mount =',
      'lxc.hook.start = /y',
      'lxc.hook =',
      'lxc.sysctl.a = 1',
      'lxc.sysctl.b = 2',
      'lxc.sysctl.a =',
      'lxc.prlimit.nofile = 1',
      'lxc.prlimit =',
      'lxc.environment = A=1',
      'lxc.environment =',
      'lxc.idmap = u 0 1 1',
      'lxc.idmap =',
      'lxc.namespace.clone = net',
      'lxc.namespace.keep = user',
    ].join('\n'),
  );
  assert.equal(model.mount.entries.map((e) => e.source), ['/b']);
  assert.is(model.utsName, 'second');
  assert.equal(model.hooks.mount, []);
  assert.equal(model.hooks.start, []);
  assert.equal(model.sysctl, { b: '2' });
  assert.equal(model.prlimit, {});
  assert.equal(model.environment, []);
  assert.equal(model.idmap, []);
  assert.equal(errors, ['20: lxc.namespace.keep: lxc.namespace.clone and lxc.namespace.keep cannot both be set']);
});

const plugins = suite('plugin-owned keys');

plugins('caps: names and numbers, none, clearing, drop and keep together refused', async () => {
  const ok = await validateText('lxc.cap.drop = sys_module mac_admin\nlxc.cap.drop = 25\n');
  assert.equal(ok.errors, []);
  assert.equal(ok.model.caps, { drop: [16, 33, 25], explicit: true });
  assert.equal((await validateText('lxc.uts.name = x\n')).model.caps, { drop: [], explicit: false }, 'nothing said: the plugin default applies');
  const keep = await validateText('lxc.cap.drop = sys_time\nlxc.cap.drop =\nlxc.cap.keep = none\n');
  assert.equal(keep.errors, []);
  assert.equal(keep.model.caps, { drop: [], keep: 'none', explicit: true });
  const bad = await validateText('lxc.cap.drop = CAP_SYS_ADMIN\nlxc.cap.drop = 999\nlxc.cap.drop = chown\nlxc.cap.keep = kill\n');
  assert.equal(bad.errors, [
    '1: lxc.cap.drop: unknown capability "CAP_SYS_ADMIN"; write it as "sys_admin" (lower case, without CAP_)',
    `2: lxc.cap.drop: capability 999 is above this kernel's last capability (40)`,
    '4: lxc.cap.keep: lxc.cap.drop and lxc.cap.keep cannot both be set (clear one with an empty value)',
  ]);
});

plugins('net: indexed devices, type-specific keys need their type first', async () => {
  const ok = await validateText(
    [
      'lxc.net.0.type = veth',
      'lxc.net.0.link = lxcbr0',
      'lxc.net.0.flags = up',
      'lxc.net.0.hwaddr = 00:16:3e:xx:xx:xx',
      'lxc.net.0.ipv4.address = 10.0.3.2/24 10.0.3.255',
      'lxc.net.0.ipv4.gateway = auto',
      'lxc.net.0.veth.pair = vethc1',
      'lxc.net.0.veth.vlan.tagged.id = 10',
      'lxc.net.1.type = macvlan',
      'lxc.net.1.macvlan.mode = bridge',
      'lxc.net.1.link = eth0',
    ].join('\n'),
  );
  assert.equal(ok.errors, []);
  const [veth, macvlan] = ok.model.net!.devices;
  assert.is(veth!.type, 'veth');
  assert.is(veth!.up, true);
  assert.equal(veth!.ipv4, [{ address: '10.0.3.2', prefix: 24, broadcast: '10.0.3.255' }]);
  assert.is(veth!.veth.pair, 'vethc1');
  assert.equal(veth!.veth.vlanTaggedIds, [10]);
  assert.is(macvlan!.macvlanMode, 'bridge');
  const bad = await validateText(
    [
      'lxc.net.0.veth.pair = early',
      'lxc.net.0.type = bridge',
      'lxc.net.1.type = vlan',
      'lxc.net.1.vlan.id = 5000',
      'lxc.net.1.ipv4 = 10.0.0.1/8',
      'lxc.net.1.name = averyveryverylongname',
      'lxc.net.1.hwaddr = zz:00:00:00:00:00',
      'lxc.net = x',
      'lxc.net.1.flags = down',
    ].join('\n'),
  );
  assert.equal(bad.errors, [
    '1: lxc.net.0.veth.pair: veth.pair is only valid for a veth network; set lxc.net.0.type = veth first',
    '2: lxc.net.0.type: unknown network type "bridge"; use empty, none, veth, macvlan, ipvlan, vlan, phys',
    '4: lxc.net.1.vlan.id: expected a VLAN id of at most 4094, got 5000',
    '5: lxc.net.1.ipv4: unknown network key "ipv4"; did you mean ipv4.address?',
    '6: lxc.net.1.name: interface name "averyveryverylongname" is longer than 15 characters',
    '7: lxc.net.1.hwaddr: "zz:00:00:00:00:00" is not a MAC address (x may stand for random hex digits)',
    '8: lxc.net: lxc.net only takes an empty value (to remove every network); use lxc.net.<index>.<subkey>',
    '9: lxc.net.1.flags: unknown flag "down"; the only flag is "up"',
  ]);
  const cleared = await validateText('lxc.net.0.type = veth\nlxc.net.1.type = empty\nlxc.net.0 =\n');
  assert.equal(cleared.model.net!.devices.map((d) => d.index), [1]);
});

plugins('cgroups: v1 and v2 settings in order, device rules checked, dir keys go together', async () => {
  const ok = await validateText(
    [
      'lxc.cgroup.devices.deny = a',
      'lxc.cgroup.devices.allow = c 136:* rwm',
      'lxc.cgroup2.memory.max = 64M',
      'lxc.cgroup2.devices.allow = b *:* m',
      'lxc.cgroup.dir = lxkit/c1',
    ].join('\n'),
  );
  assert.equal(ok.errors, []);
  assert.equal(ok.model.cgroup!.v1, [
    { file: 'devices.deny', value: 'a', origin: { file: 'test.conf', line: 1, key: 'lxc.cgroup.devices.deny' } },
    { file: 'devices.allow', value: 'c 136:* rwm', origin: { file: 'test.conf', line: 2, key: 'lxc.cgroup.devices.allow' } },
  ]);
  assert.equal(ok.model.cgroup!.v2.length, 2);
  const bad = await validateText(
    ['lxc.cgroup.devices.allow = x 1:1 rwm', 'lxc.cgroup.dir.container = a', 'lxc.cgroup.dir = ../escape'].join('\n'),
  );
  assert.equal(bad.errors, [
    '1: lxc.cgroup.devices.allow: "x 1:1 rwm" is not a device rule; expected "a" or "<a|b|c> <major|*>:<minor|*> <rwm>"',
    '2: lxc.cgroup.dir.container: lxc.cgroup.dir.container and lxc.cgroup.dir.monitor must be set together',
    '3: lxc.cgroup.dir: "../escape" must not contain ".."',
  ]);
  const cleared = await validateText('lxc.cgroup.devices.allow = a\nlxc.cgroup.memory.limit_in_bytes = 1\nlxc.cgroup.devices.allow =\n');
  assert.equal(cleared.model.cgroup!.v1.map((c) => [c.file, c.value, c.origin.line]), [['memory.limit_in_bytes', '1', 2]]);
});

plugins('seccomp and apparmor keys', async () => {
  const ok = await validateText(
    [
      'lxc.seccomp.profile = /usr/share/lxc/config/common.seccomp',
      'lxc.seccomp.notify.proxy = unix:@lxkit-notify',
      'lxc.apparmor.profile = generated',
      'lxc.apparmor.allow_nesting = 1',
      'lxc.apparmor.raw = mount fstype=tmpfs,',
    ].join('\n'),
  );
  assert.equal(ok.errors, []);
  assert.is(ok.model.seccomp!.profile, '/usr/share/lxc/config/common.seccomp');
  assert.equal(ok.model.apparmor, { profile: 'generated', allowIncomplete: false, allowNesting: true, raw: ['mount fstype=tmpfs,'] });
  const bad = await validateText('lxc.seccomp.notify.proxy = tcp:1.2.3.4\nlxc.apparmor.allow_incomplete = 2\n');
  assert.equal(bad.errors, [
    '1: lxc.seccomp.notify.proxy: "tcp:1.2.3.4": expected unix:/path or unix:@abstract-name',
    '2: lxc.apparmor.allow_incomplete: expected 0 or 1, got "2"',
  ]);
});

plugins('unknown keys, and keys of plugins that are not enabled', async () => {
  const all = await validateText('lxc.foo = 1\nlxc.seccomp.bogus = 1\nlxc.hook.nope = /x\nfoo = ignored\n');
  assert.equal(all.errors, ['1: lxc.foo: unknown key', '2: lxc.seccomp.bogus: unknown key', '3: lxc.hook.nope: unknown key']);
  const bare = await validateText('lxc.net.0.type = veth\nlxc.cap.drop = sys_time\nlxc.uts.name = c1\n', []);
  assert.equal(bare.errors, [
    '1: lxc.net.0.type: handled by plugin "net", which is not enabled',
    '2: lxc.cap.drop: handled by plugin "caps", which is not enabled',
  ]);
  assert.is(bare.model.utsName, 'c1', 'the core reads its keys without any plugin');
});

core.run();
plugins.run();
