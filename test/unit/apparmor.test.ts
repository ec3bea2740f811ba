/**
 * The AppArmor plugin without AppArmor: which label LXC's rules pick for
 * every host and config, the "everything but" globs checked against real
 * paths, the generated profile's blocks — each variant compiled by the real
 * apparmor_parser in its skip-kernel-load mode — and what a start does on
 * a host where AppArmor is off. Real confinement runs in the kernel-feature
 * VM (test/e2e/apparmor.test.ts).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  checkProfile,
  containerLabel,
  everythingBut,
  generateProfile,
  namespaceName,
  probeHost,
  profileName,
  resolveProfile,
  type AppArmorHost,
  type AppArmorModel,
  type ProfileOptions,
} from '@lxkit/plugin-apparmor';
import { OP } from '@lxkit/core';
import { testIf, which } from '../lib/harness.js';
import { runtimeWith, startContext } from '../lib/config.js';

/** AppArmor's glob as a RegExp: `**` any path, `*` and `?` within a component, classes and alternations. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i);
      const body = glob.slice(i + 1, end);
      re += body.startsWith('^') ? `[^/${body.slice(1)}]` : `[${body}]`;
      i = end;
    } else if (c === '{') re += '(?:';
    else if (c === '}') re += ')';
    else if (c === ',') re += '|';
    else re += c.replace(/[.+()|^$\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
const covered = (globs: string[], path: string): boolean => globs.some((g) => globToRegExp(g).test(path));

const g = suite('AppArmor globs for "everything but"');

g('writable sysctls: hostname, domainname, IPC limits and net stay writable; the rest is covered', () => {
  const globs = everythingBut('/proc/sys', {
    kernel: { hostname: 'tree', domainname: 'tree', 'shm*': 'self', 'sem*': 'self', 'msg*': 'self' },
    net: 'tree',
  });
  for (const free of ['/proc/sys/kernel/hostname', '/proc/sys/kernel/domainname', '/proc/sys/kernel/shmmax', '/proc/sys/kernel/sem', '/proc/sys/kernel/msgmnb', '/proc/sys/net/ipv4/ip_forward', '/proc/sys/net']) {
    assert.not.ok(covered(globs, free), `${free} must stay writable`);
  }
  for (const denied of [
    '/proc/sys/kernel/core_pattern',
    '/proc/sys/kernel/hostnamex',
    '/proc/sys/kernel/host',
    '/proc/sys/kernel/modprobe',
    '/proc/sys/kernel/shmmax/x',
    '/proc/sys/vm/drop_caches',
    '/proc/sys/fs/binfmt_misc/register',
    '/proc/sys/netfilter/x',
    '/proc/sys/k',
    '/proc/sys/kernel2/x',
  ]) {
    assert.ok(covered(globs, denied), `${denied} must be covered`);
  }
});

g('nested exceptions and exact names with longer siblings', () => {
  const globs = everythingBut('/sys', { fs: { cgroup: 'tree' }, class: { net: 'tree' }, devices: { virtual: { net: 'tree' } } });
  assert.not.ok(covered(globs, '/sys/fs/cgroup/memory/x'));
  assert.not.ok(covered(globs, '/sys/class/net/eth0/mtu'));
  assert.not.ok(covered(globs, '/sys/devices/virtual/net/lo/mtu'));
  for (const p of ['/sys/fs/ext4/x', '/sys/class/block/sda', '/sys/devices/system/cpu', '/sys/devices/virtual/tty/x', '/sys/power/state']) assert.ok(covered(globs, p), p);
  const siblings = everythingBut('/x', { net: 'tree', netx: 'tree' });
  assert.not.ok(covered(siblings, '/x/net/a'));
  assert.not.ok(covered(siblings, '/x/netx/a'));
  assert.ok(covered(siblings, '/x/nety'));
  assert.ok(covered(siblings, '/x/netxy'));
  assert.throws(() => everythingBut('/x', { 'a/b': 'tree' }), /cannot be an exception/);
});

const p = suite('generated profiles');

const base: ProfileOptions = { name: profileName('c1', '/var/lib/lxc'), unix: true, cgroupns: true, nesting: false, unprivileged: false, raw: [] };

p('names as LXC makes them, hashed past the kernel limit; the stacked label', () => {
  assert.is(profileName('c1', '/var/lib/lxc'), 'lxc-c1_</var/lib/lxc>');
  assert.is(namespaceName('c1', '/var/lib/lxc'), 'lxc-c1_<-var-lib-lxc>');
  const long = profileName('c', `/${'d'.repeat(250)}`);
  assert.match(long, /^[0-9a-f]{16}$/);
  assert.is(long, profileName('c', `/${'d'.repeat(250)}`), 'stable');
  assert.is(profileName('db@prod_1', '/var/lib/lxc'), 'lxc-db@prod_1_</var/lib/lxc>');
  for (const name of ['web 1', 'a:b', 'say"hi', 'back\\slash', 'tab\there']) {
    assert.match(profileName(name, '/var/lib/lxc'), /^[0-9a-f]{16}$/, `${JSON.stringify(name)}: hashed, as it could not be quoted or stacked`);
  }
  assert.is.not(profileName('a:b', '/var/lib/lxc'), profileName('a b', '/var/lib/lxc'));
  assert.is(containerLabel('p', 'ns'), 'p//&:ns:');
  assert.is(containerLabel('p'), 'p');
});

p('blocks follow the host and the config', () => {
  const plain = generateProfile({ ...base, unix: false, cgroupns: false });
  assert.match(plain, /^profile "lxc-c1_<\/var\/lib\/lxc>" flags=\(attach_disconnected,mediate_deleted\) \{$/m);
  assert.not.match(plain, /unix /);
  assert.not.match(plain, /fstype=cgroup2/);
  assert.match(plain, /deny \/sys\/kernel\*\{,\/\*\*\} rwklx,/, 'no stacking: /sys/kernel out of reach');
  assert.not.match(plain, /pivot_root/);
  const full = generateProfile({ ...base, nesting: true, unprivileged: true, raw: ['deny /etc/secret r,'] });
  assert.match(full, /unix peer=\(label=@\{profile_name\}\),/);
  assert.match(full, /mount fstype=cgroup2 -> \/sys\/fs\/cgroup\/\*\*,/);
  assert.match(full, /^ {2}mount,$/m, 'nesting allows all mounts');
  assert.match(full, /change_profile -> "lxc-c1_<\/var\/lib\/lxc>",/, 'nesting without stacking may re-enter its own profile');
  assert.match(full, /mount options=\(rw,make-rshared\) -> \*\*,/, 'unprivileged block');
  assert.ok(full.trimEnd().endsWith('deny /etc/secret r,\n}'), 'raw lines last');
  const stacked = generateProfile({ ...base, stackNamespace: 'lxc-c1_<-var-lib-lxc>', nesting: true });
  assert.match(stacked, /change_profile -> ":lxc-c1_<-var-lib-lxc>:\*",/);
  assert.not.match(stacked, /change_profile -> "lxc-c1/);
  assert.not.match(stacked, /deny \/sys\/kernel\*/);
});

const parser = which('apparmor_parser') ? undefined : 'apparmor_parser is not installed (npm run setup installs Debian\'s apparmor)';

testIf(p, parser, 'every variant compiles with the real apparmor_parser (skip-kernel-load mode)', async () => {
  const variants: Partial<ProfileOptions>[] = [
    { unix: false, cgroupns: false },
    {},
    { nesting: true },
    { unprivileged: true },
    { nesting: true, unprivileged: true },
    { stackNamespace: 'lxc-c1_<-var-lib-lxc>' },
    { stackNamespace: 'lxc-c1_<-var-lib-lxc>', nesting: true, unprivileged: true },
    { raw: ['deny /etc/shadow r,', 'capability sys_admin,'] },
    { name: profileName('c', `/${'d'.repeat(250)}`) },
  ];
  for (const v of variants) await checkProfile(generateProfile({ ...base, ...v }), JSON.stringify(v));
});

testIf(p, parser, 'a bad lxc.apparmor.raw line fails the compile with the parser\'s message', async () => {
  const err = await checkProfile(generateProfile({ ...base, raw: ['this is not a rule'] }), 'c1').catch((e: unknown) => e);
  assert.instance(err, Error);
  assert.is((err as { code: string }).code, 'LXKIT_APPARMOR_FAILED');
  assert.match((err as Error).message, /could not compile c1: .*line \d+/);
});

const r = suite('which label (LXC\'s rules)');

const on: AppArmorHost = { enabled: true, mountMediation: true, canStack: false, stacked: false, admin: true, label: 'unconfined' };
const model = (m: Partial<AppArmorModel> = {}): AppArmorModel => ({ allowIncomplete: false, allowNesting: false, raw: [], ...m });
const resolve = (m: Partial<AppArmorModel>, host: Partial<AppArmorHost> = {}, cgroupns = true) =>
  resolveProfile({ model: model(m), host: { ...on, ...host }, cgroupns, generatedName: 'lxc-c1_</l>' });

r('disabled host, unchanged, unconfined when unconfined: nothing to do', () => {
  assert.is(resolve({ profile: 'generated' }, { enabled: false }).action, 'none');
  assert.match((resolve({}, { enabled: false }) as { info: string }).info, /not enabled/);
  assert.is(resolve({ profile: 'unchanged' }).action, 'none');
  assert.is(resolve({ profile: 'unconfined' }).action, 'none');
});

r('unset: LXC\'s default, -cgns with cgroup namespaces', () => {
  assert.equal(resolve({}), { action: 'label', profile: 'lxc-container-default-cgns', generated: false, isDefault: true });
  assert.equal(resolve({}, {}, false), { action: 'label', profile: 'lxc-container-default', generated: false, isDefault: true });
  assert.equal(resolve({ profile: 'my-profile' }), { action: 'label', profile: 'my-profile', generated: false, isDefault: false });
  assert.equal(resolve({ profile: 'generated' }), { action: 'label', profile: 'lxc-c1_</l>', generated: true, isDefault: false });
});

r('without mount mediation only allow_incomplete starts a confined container', () => {
  const refused = resolve({ profile: 'generated' }, { mountMediation: false });
  assert.is(refused.action, 'refuse');
  assert.is((refused as { key: string }).key, 'lxc.apparmor.allow_incomplete');
  assert.is(resolve({ profile: 'generated', allowIncomplete: true }, { mountMediation: false }).action, 'label');
  assert.is(resolve({ profile: 'unconfined' }, { mountMediation: false, label: 'x' , canStack: true }).action, 'label', 'unconfined needs no mediation');
});

r('already confined without stacking: keep the label, refuse another', () => {
  assert.is(resolve({}, { label: 'outer' }).action, 'none');
  assert.is(resolve({ profile: 'outer' }, { label: 'outer' }).action, 'none');
  const refused = resolve({ profile: 'other' }, { label: 'outer' });
  assert.is(refused.action, 'refuse');
  assert.match((refused as { reason: string }).reason, /confined by outer .* cannot stack/);
  assert.is(resolve({ profile: 'other' }, { label: 'outer', canStack: true }).action, 'label', 'stacking kernels can');
  assert.is(resolve({ profile: 'other' }, { label: '/usr/bin/lxc-start' }).action, 'label', "LXC's own start profile may change");
});

r('generated needs CAP_MAC_ADMIN', () => {
  const refused = resolve({ profile: 'generated' }, { admin: false });
  assert.is(refused.action, 'refuse');
  assert.match((refused as { reason: string }).reason, /CAP_MAC_ADMIN/);
});

r('the host probe reads sysfs, securityfs and the process label', () => {
  const files: Record<string, string> = {
    '/sys/module/apparmor/parameters/enabled': 'Y\n',
    '/sys/kernel/security/apparmor/features/domain/version': '1.2\n',
    '/sys/kernel/security/apparmor/features/domain/stack': 'yes\n',
    '/sys/kernel/security/apparmor/features/mount/mask': 'mount umount pivot_root\n',
    '/proc/self/status': 'Name:\tx\nCapEff:\t000001ffffffffff\n',
    '/proc/self/attr/current': 'lxc-c1_</l> (enforce)\n',
  };
  const host = probeHost((f) => files[f]);
  assert.equal(host, { enabled: true, mountMediation: true, canStack: true, stacked: false, admin: true, label: 'lxc-c1_</l>' });
  files['/sys/kernel/security/apparmor/features/domain/version'] = '1.1\n';
  files['/proc/self/status'] = 'CapEff:\t0000000000000000\n';
  delete files['/sys/kernel/security/apparmor/features/mount/mask'];
  assert.equal(probeHost((f) => files[f]), { enabled: true, mountMediation: false, canStack: false, stacked: false, admin: false, label: 'lxc-c1_</l>' });
  assert.is(probeHost(() => undefined).enabled, false);
});

const off = probeHost().enabled ? 'AppArmor is enabled on this host' : undefined;

testIf(r, off, 'a start on a host without AppArmor: one info line, no label op, nothing for attach', async () => {
  const runtime = await runtimeWith([{ use: 'apparmor' }]);
  const ctx = await startContext('lxc.apparmor.profile = generated\nlxc.apparmor.raw = deny /x r,\n');
  const lines: string[] = [];
  (ctx as { log: unknown }).log = { ...ctx.log, info: (m: string) => lines.push(m), warn: (m: string) => lines.push(`WARN ${m}`) };
  await runtime.hooks.preStart.promise(ctx);
  await runtime.hooks.start.promise(ctx);
  assert.equal(lines, ['test: AppArmor is not enabled on this host: no AppArmor confinement (lxc.apparmor.* has no effect)']);
  assert.not.ok(ctx.ops.ops.some((o) => o.code === OP.LSM_LABEL));
  assert.is(ctx.attachConfinement.label, undefined);
});

g.run();
p.run();
r.run();
