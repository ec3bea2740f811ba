/** LXC seccomp policy files as the seccomp plugin reads them, and what it hands the compiler. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { actionValue, compileSpec, hostArches, parsePolicy } from '@lxkit/plugin-seccomp';

const p = suite('seccomp policy files');

p('v2 lists, their aliases and default actions', () => {
  const deny = parsePolicy('2\nblacklist\nmknod errno 0\nkexec_load\n', 'f');
  assert.is(deny.list, 'denylist');
  assert.equal(deny.defaultAction, { kind: 'allow' });
  assert.equal(deny.rules.map((r) => r.action), [{ kind: 'errno', errno: 0 }, { kind: 'kill' }]);
  const allow = parsePolicy('2\nwhitelist trap\nread\n', 'f');
  assert.is(allow.list, 'allowlist');
  assert.equal(allow.defaultAction, { kind: 'trap' });
  assert.equal(allow.rules[0]!.action, { kind: 'allow' });
  assert.equal(parsePolicy('2\ndenylist errno 13\n', 'f').defaultAction, { kind: 'errno', errno: 13 });
});

p('rules: argument filters with every operator, comments, sections in any case, reject_force_umount', () => {
  const pol = parsePolicy(
    [
      '2',
      'denylist',
      '# a comment',
      '',
      'reject_force_umount  # trailing comment',
      '[X86_64]',
      'personality errno 1 [0,0,SCMP_CMP_NE] [1,2,<] [2,3,<=]',
      'ioctl errno 1 [1,0x5401,==] [2,4,>=] [3,5,>] [4,0x10,&=,0x30]',
      '[all]',
      'mount notify',
    ].join('\n'),
    'f',
  );
  assert.ok(pol.rejectForceUmount);
  assert.equal(pol.rules.map((r) => [r.syscall, r.section, r.line]), [
    ['personality', 'x86_64', 7],
    ['ioctl', 'x86_64', 8],
    ['mount', 'all', 10],
  ]);
  assert.equal(pol.rules[0]!.args.map((a) => a.op), ['ne', 'lt', 'le']);
  assert.equal(pol.rules[1]!.args, [
    { index: 1, op: 'eq', value: 0x5401n },
    { index: 2, op: 'ge', value: 4n },
    { index: 3, op: 'gt', value: 5n },
    { index: 4, op: 'masked_eq', value: 0x10n, mask: 0x30n },
  ]);
  assert.equal(pol.rules[2]!.action, { kind: 'notify' });
});

p('v1: an allowlist of numbers', () => {
  const pol = parsePolicy('1\nallowlist\n0\n1\n60\n', 'f');
  assert.equal(pol.rules.map((r) => r.syscall), [0, 1, 60]);
  assert.equal(pol.defaultAction, { kind: 'kill' });
});

p('errors name the file, the line and the reason', () => {
  const bad: [string, RegExp][] = [
    ['3\ndenylist\n', /^f:1: expected the policy version/],
    ['1\ndenylist\n', /^f:2: a version 1 policy must be an allowlist/],
    ['1\nallowlist\nread\n', /^f:3: a version 1 policy lists syscall numbers, not "read"/],
    ['2\ndenylist\n[sparc]\n', /^f:3: unknown architecture section \[sparc\]/],
    ['2\ndenylist\nread frobnicate\n', /^f:3: read: unknown action "frobnicate"/],
    ['2\ndenylist\nread errno 1 [0,1,=~]\n', /^f:3: argument filter "\[0,1,=~\]": unknown operator "=~"/],
    ['2\ndenylist\nread errno 1 [0,1,&=]\n', /^f:3: argument filter "\[0,1,&=\]": SCMP_CMP_MASKED_EQ needs a mask/],
    ['2\ndenylist\nread errno 5000\n', /^f:3: read: errno 5000 is out of range/],
    ['2\ndenylist\nread errno 1 [0,1,==] [1,1,==] [2,1,==] [3,1,==] [4,1,==] [5,1,==] [5,2,==]\n', /^f:3: read: at most 6 argument filters/],
    ['2\nallowlist kaboom\n', /^f:2: unknown default action "kaboom"/],
  ];
  for (const [text, re] of bad) assert.throws(() => parsePolicy(text, 'f'), (e: Error) => re.test(e.message), text);
});

p('to the compiler: [all] goes to every ABI the host runs, a foreign section nowhere; actions as libseccomp numbers', () => {
  const host = { native: 'x86_64', compat: ['x86', 'x32'] };
  const spec = compileSpec(parsePolicy('2\ndenylist\nreject_force_umount\n[arm64]\nread\n[x86]\nmkdir errno 42\n[all]\nkexec_load errno 1\n', 'f'), host);
  const names = Object.fromEntries(spec.arches.map((a) => [a.arch, a.rules.map((r) => (r as { name: string }).name)]));
  assert.equal(names, { x86_64: ['kexec_load', 'umount2'], x86: ['mkdir', 'kexec_load', 'umount2'], x32: ['kexec_load', 'umount2'] });
  assert.is(spec.defaultAction, 0x7fff0000);
  assert.is(actionValue({ kind: 'errno', errno: 42 }), 0x0005002a);
  assert.is(actionValue({ kind: 'kill' }), 0);
  assert.is(actionValue({ kind: 'trap' }), 0x00030000);
  assert.is(actionValue({ kind: 'notify' }), 0x7fc00000);
  assert.equal(hostArches('x64'), host);
});

p.run();
