/**
 * Compatibility with the configs Debian's lxc package installs and the
 * configs LXC's own templates write: each validates with no problem through
 * every built-in plugin, and round-trips byte for byte. And with what
 * lxc-start makes of one of them: the container's /dev.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, readlink, writeFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigDocument, Container, formatProblem, validateContainerConfig, watchDir } from '@lxkit/core';
import { runtimeWith } from '../lib/config.js';
import { withLxcBusybox, type LxcBusybox } from '../lib/lxc-busybox.js';
import { containerCgroups, LXKIT_BIN, lxkit, testIf, until, which, withLxcPivotCleanup, withScratch, withSubordinateIds, withTmpDir, type Scratch } from '../lib/harness.js';

const LXC_MISSING = which('lxc-create') ? undefined : "Debian's lxc package is not installed (npm run setup installs it)";
const LXC_BUSYBOX_MISSING = LXC_MISSING ?? (which('busybox') ? undefined : 'busybox is not installed');

/** Container configs among the *.conf files of the lxc packages (the rest are seccomp policies and sysctl files). */
async function debianContainerConfigs(): Promise<{ containers: string[]; others: string[] }> {
  const { stdout } = await execa('dpkg', ['-L', 'lxc', 'liblxc1', 'liblxc-common'], { reject: false });
  const confs = String(stdout)
    .split('\n')
    .filter((p) => p.endsWith('.conf'));
  const containers: string[] = [];
  const others: string[] = [];
  for (const p of confs) {
    const text = await readFile(p, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    // A seccomp policy starts with its version number; a sysctl file lives in sysctl.d.
    if (/^[12]\s*\n/.test(text) || p.includes('/sysctl.d/')) others.push(p);
    else containers.push(p);
  }
  return { containers, others };
}

async function assertCompatible(file: string): Promise<void> {
  const runtime = await runtimeWith();
  const { problems } = await validateContainerConfig(runtime, { path: file });
  assert.equal(problems.map(formatProblem), [], `${file} validates with no problem`);
  const bytes = await readFile(file);
  assert.ok(ConfigDocument.fromBuffer(bytes, file).toBuffer().equals(bytes), `${file} round-trips byte for byte`);
}

const compat = suite('LXC compatibility');

testIf(compat, LXC_MISSING, "every container config Debian's lxc installs validates and round-trips", async () => {
  const { containers, others } = await debianContainerConfigs();
  assert.ok(containers.length >= 12, `found ${containers.length}`);
  assert.ok(containers.includes('/usr/share/lxc/config/common.conf'));
  assert.ok(containers.includes('/etc/lxc/default.conf'));
  assert.equal(others.map((p) => p.split('/').pop()).sort(), ['30-lxc-inotify.conf', 'seccomp-v1.conf', 'seccomp-v2-denylist.conf', 'seccomp-v2.conf']);
  for (const file of containers) await assertCompatible(file);
});

testIf(compat, LXC_BUSYBOX_MISSING, 'the config lxc-create -t busybox writes validates and round-trips', async () => {
  await withTmpDir(async (dir) => {
    try {
      await execa('lxc-create', ['-P', dir, '-n', 'bb', '-t', 'busybox']);
      const file = join(dir, 'bb', 'config');
      assert.match(await readFile(file, 'utf8'), /lxc\.mount\.entry = \/sys\/kernel\/security/);
      await assertCompatible(file);
    } finally {
      await execa('lxc-destroy', ['-P', dir, '-n', 'bb'], { reject: false });
    }
  });
});

testIf(compat, LXC_MISSING ?? (which('xz') ? undefined : 'xz is not installed'), 'the config lxc-create -t local writes (distribution image layout) validates and round-trips', async () => {
  await withTmpDir(async (dir) => {
    // An image in the images.linuxcontainers.org layout: metadata with a
    // distribution config that includes LXC's shared configs, and a rootfs.
    const meta = join(dir, 'meta');
    await mkdir(join(meta), { recursive: true });
    await writeFile(
      join(meta, 'config'),
      'lxc.include = LXC_TEMPLATE_CONFIG/common.conf\nlxc.arch = x86_64\n',
    );
    await writeFile(join(meta, 'config-user'), 'lxc.include = LXC_TEMPLATE_CONFIG/common.conf\nlxc.include = LXC_TEMPLATE_CONFIG/userns.conf\nlxc.arch = x86_64\n');
    await writeFile(join(meta, 'metadata.yaml'), 'architecture: amd64\ncreation_date: 0\n');
    await execa('tar', ['-cJf', join(dir, 'meta.tar.xz'), '-C', meta, '.']);
    await mkdir(join(dir, 'tree', 'etc'), { recursive: true });
    await execa('tar', ['-cJf', join(dir, 'rootfs.tar.xz'), '-C', join(dir, 'tree'), '.']);
    const lxcpath = join(dir, 'lxc');
    await mkdir(lxcpath);
    try {
      await execa('lxc-create', ['-P', lxcpath, '-n', 'img', '-t', 'local', '--', '--metadata', join(dir, 'meta.tar.xz'), '--fstree', join(dir, 'rootfs.tar.xz')]);
      const file = join(lxcpath, 'img', 'config');
      const text = await readFile(file, 'utf8');
      assert.match(text, /lxc\.include = \/usr\/share\/lxc\/config\/common\.conf/);
      assert.match(text, /# Network configuration/);
      await assertCompatible(file);
    } finally {
      await execa('lxc-destroy', ['-P', lxcpath, '-n', 'img'], { reject: false });
    }
  });
});

/**
 * What the container sees of its /dev, run as its init: every entry's mode,
 * device numbers and owner, and the mounts on and below /dev (and the boot
 * id's), each line without the mount ids and propagation tags. With `all`,
 * everything; without it the console is left out (without lxc.pty.max, LXC's
 * is a pty of the host's devpts, lxkit's one of the container's), with the
 * ptys' numbers and devpts' `max` that follow from it.
 */
const DEV_PROBE = `#!/bin/sh
cd /dev
for f in .lxc-boot-id * pts/* lxc/*; do
  [ -e "$f" ] || continue
  case "$1:$f" in all:*) ;; *:console|*:pts/[0-9]*|*:lxc/console) continue;; esac
  stat -c '%n %A %t,%T %U:%G' "$f"
done
if [ "$1" = all ]; then skip='^$'; max=''; else skip=' /dev(/lxc)?/console '; max='s/,max=[0-9]*//'; fi
sed -e 's/^[^ ]* [^ ]* [^ ]* //' -e 's/ shared:[0-9]*//g' -e 's/ master:[0-9]*//g' -e "$max" /proc/self/mountinfo |
  grep -E ' (/dev[^ ]*|/proc/sys/kernel/random/boot_id) ' | grep -Ev "$skip"
`;

/** A comparison of LXC's tools with lxkit on an LXC busybox container (skipped without LXC or busybox). */
function against(name: string, fn: (c: LxcBusybox) => Promise<void>): void {
  testIf(compat, LXC_BUSYBOX_MISSING, name, () => withLxcBusybox(fn));
}

/** The /dev each of lxc-start and lxkit start gives the container with `extra` config lines, seen by DEV_PROBE. */
async function devOfBoth(c: LxcBusybox, extra: string, probeArgs: string): Promise<Record<'lxc' | 'lxkit', string[]>> {
  await c.configure(extra);
  await c.install('probe.sh', DEV_PROBE);
  const init = ['/bin/sh', '-c', `/probe.sh ${probeArgs} > /probe.out 2>&1`];
  return c.both('start', ['-F', '--', ...init], async () => (await readFile(join(c.rootfs, 'probe.out'), 'utf8')).trim().split('\n').sort());
}

against(
  "a system container's /dev is lxc-start's: the same nodes, modes, tmpfs, ttys, console and boot id mount",
  async (c) => {
    // The busybox template's config: the console aside.
    const plain = await devOfBoth(c, '', '');
    assert.equal(plain.lxkit, plain.lxc);
    // Both saw something: the nodes, the tmpfs, the ttys, the boot id.
    let lines = plain.lxkit;
    assert.ok(lines.includes('null crw-rw-rw- 1,3 root:root'), lines.join('\n'));
    assert.ok(lines.includes('.lxc-boot-id -r--r--r-- 0,0 root:root'), lines.join('\n'));
    assert.ok(lines.some((l) => /^\/ \/dev rw,relatime - tmpfs none rw,size=492k,mode=755$/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /^\/0 \/dev\/tty1 /.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /^\/\.lxc-boot-id \/proc\/sys\/kernel\/random\/boot_id ro,nosuid,nodev,noexec/.test(l)), lines.join('\n'));
    // With LXC's common.conf, as every distribution container has it (lxc.tty.dir, lxc.pty.max,
    // cgroup:mixed, its seccomp policy): the console is one of the container's ptys in both, so all of it.
    const common = await devOfBoth(c, 'lxc.include = /usr/share/lxc/config/common.conf\n', 'all');
    assert.equal(common.lxkit, common.lxc);
    lines = common.lxkit;
    // The console is pts/0 (major 0x88), its owner's alone; the ttys follow; max is lxc.pty.max + lxc.tty.max.
    assert.ok(lines.some((l) => /^console crwx------ 88,0 root:/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /^lxc\/tty1 crw--w---- 88,1 root:/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /^\/0 \/dev\/lxc\/console .* devpts devpts rw,gid=5,mode=620,ptmxmode=666,max=1028$/.test(l)), lines.join('\n'));
    // Without lxc.autodev (the rootfs's own /dev) the console keeps devpts' mode.
    const own = await devOfBoth(c, 'lxc.autodev = 0\nlxc.pty.max = 10\n', 'all');
    assert.equal(own.lxkit, own.lxc);
    assert.ok(own.lxkit.some((l) => /^console crw--w---- 88,0 root:/.test(l)), own.lxkit.join('\n'));
  },
);

against(
  "lxc.apparmor.allow_nesting (every container Debian's lxc-create makes has it) mounts LXC's nesting helpers, a proc and a sysfs on /dev/.lxc, for lxc-start and lxc-execute alike, AppArmor or not",
  async (c) => {
    const nesting = await devOfBoth(c, 'lxc.apparmor.allow_nesting = 1\n', '');
    assert.equal(nesting.lxkit, nesting.lxc);
    const helpers = (lines: string[]) => lines.filter((l) => / \/dev\/\.lxc\//.test(l));
    // What LXC mounts, so that a change on either side shows: proc whole, sysfs as the container's netns has it (read-only here, sys:ro).
    assert.equal(helpers(nesting.lxc), ['/ /dev/.lxc/proc rw,relatime - proc proc rw', '/ /dev/.lxc/sys rw,relatime - sysfs sys ro']);
    const read = async () => (await readFile(join(c.rootfs, 'probe.out'), 'utf8')).trim().split('\n').sort();
    const execute = await c.both('execute', ['--', '/bin/sh', '-c', '/probe.sh > /probe.out 2>&1'], read);
    assert.equal(helpers(execute.lxkit), helpers(execute.lxc), 'execute');
    assert.equal(helpers(execute.lxc), helpers(nesting.lxc));
    // Without the key, neither mounts them.
    const plain = await devOfBoth(c, '', '');
    assert.equal(helpers(plain.lxkit), []);
    assert.equal(helpers(plain.lxc), []);
  },
);

/** The container's mounts on and below /sys/fs/cgroup, without mount ids and propagation tags. */
const CGROUP_PROBE = `#!/bin/sh
sed -e 's/^[^ ]* [^ ]* [^ ]* //' -e 's/ shared:[0-9]*//g' -e 's/ master:[0-9]*//g' /proc/self/mountinfo | grep ' /sys/fs/cgroup'
`;

against(
  "lxc.mount.auto's cgroup mounts are lxc-start's, with a cgroup namespace (:force) and without one",
  async (c) => {
    await c.install('cgprobe.sh', CGROUP_PROBE);
    const init = ['-F', '--', '/bin/sh', '-c', '/cgprobe.sh > /cg.out 2>&1'];
    const read = async () => (await readFile(join(c.rootfs, 'cg.out'), 'utf8')).trim().split('\n').sort();
    // Every namespace but the cgroup one (uts included: LXC would set the host's name otherwise).
    const noCgns = 'lxc.namespace.clone = mnt pid uts ipc net\n';
    for (const extra of [`cgroup:mixed\n${noCgns}`, `cgroup:ro\n${noCgns}`, `cgroup:rw\n${noCgns}`, 'cgroup:mixed:force\n', 'cgroup:ro:force\n']) {
      // An empty lxc.mount.auto first: the template's own line is cleared.
      await c.configure(`lxc.mount.auto =\nlxc.mount.auto = proc:mixed sys:mixed ${extra}`);
      const seen = await c.both('start', init, read);
      assert.equal(seen.lxkit, seen.lxc, extra);
      assert.ok(seen.lxc.some((l) => / \/sys\/fs\/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs none /.test(l)), `${extra}: ${seen.lxc.join('\n')}`);
    }
  },
);

/**
 * Mount propagation inside the container: a tmpfs mounted in a directory that
 * is bound elsewhere shows under the bind only when the two are peers, which
 * a shared root makes them.
 */
const PROPAGATION_PROBE = `#!/bin/sh
mkdir -p /tmp/prop/in /tmp/prop-bind
mount -o bind /tmp/prop /tmp/prop-bind
mount -t tmpfs prop /tmp/prop/in
if grep -q ' /tmp/prop-bind/in ' /proc/self/mountinfo; then echo 'the bind sees it'; else echo 'the bind does not see it'; fi
awk '$5 == "/" && / shared:/ { s = 1 } END { print s ? "root shared" : "root not shared" }' /proc/self/mountinfo
`;

against("the container's mount tree is shared inside it after pivot_root, as lxc-start and lxc-execute leave it: a mount propagates to its binds there, never to the host", async (c) => {
  await c.configure('');
  await c.install('prop.sh', PROPAGATION_PROBE);
  const read = async () => (await readFile(join(c.rootfs, 'prop.out'), 'utf8')).trim();
  const probe = ['--', '/bin/sh', '-c', '/prop.sh > /prop.out 2>&1'];
  const execute = await c.both('execute', probe, read);
  const start = await c.both('start', ['-F', ...probe], read);
  assert.is(execute.lxkit, execute.lxc, 'execute');
  assert.is(start.lxkit, start.lxc, 'start');
  // What LXC does, so that a change on either side shows.
  assert.is(execute.lxc, 'the bind sees it\nroot shared');
  assert.is(start.lxc, 'the bind sees it\nroot shared');
  assert.not.match(await readFile('/proc/self/mountinfo', 'utf8'), /\/tmp\/prop/, "nothing of it on the host");
});

/** Records its arguments, one `[N:word]` each, in /args.out. */
const ARGS_PROBE = `#!/bin/sh
n=0; for a in "$@"; do n=$((n+1)); printf '[%s:%s]' $n "$a"; done > /args.out
`;

against(
  "lxc.init.cmd and lxc.execute.cmd give the program lxc-start's and lxc-execute's words (quotes, backslashes, $)",
  async (c) => {
    await c.install('args.sh', ARGS_PROBE);
    const line = `/args.sh a 'b c' "d e" $HOME f\\ g x"y z" "p"q '' "open r`;
    const read = async () => {
      const out = await readFile(join(c.rootfs, 'args.out'), 'utf8');
      await rm(join(c.rootfs, 'args.out'));
      return out;
    };
    await c.configure(`lxc.init.cmd = ${line}\n`);
    const init = await c.both('start', ['-F'], read);
    await c.configure(`lxc.execute.cmd = ${line}\n`);
    const execute = await c.both('execute', [], read);
    assert.is(init.lxkit, init.lxc, 'lxc.init.cmd');
    assert.is(execute.lxkit, execute.lxc, 'lxc.execute.cmd');
    // What LXC makes of the line, so that a change on either side shows.
    assert.is(init.lxc, `[1:a][2:'b][3:c'][4:"d][5:e"][6:$HOME][7:f\\][8:g][9:x"y][10:z"][11:"p"q][12:''][13:"open][14:r]`);
    assert.is(execute.lxc, `[1:a][2:b c][3:d e][4:$HOME][5:f\\][6:g][7:x"y][8:z"][9:p][10:q][11:]`);
  },
);

against("lxc-attach -e, whole or in parts (CAP, CGROUP, LSM): what the attached program keeps of the confinement is lxc-attach's", async (c) => {
  // common.conf: a seccomp policy and capability drops to leave out.
  await c.configure('lxc.include = /usr/share/lxc/config/common.conf\n');
  const probe = 'grep -E "^(CapBnd|Seccomp|NoNewPrivs):" /proc/self/status | tr -s "\\t " " "; grep -E "^(4:memory|0::)" /proc/self/cgroup';
  const forms = [[], ['-e'], ['-eCAP'], ['-eCGROUP'], ['-eLSM'], ['--elevated-privileges=CAP|CGROUP']];
  const seen: Record<'lxc' | 'lxkit', string[]> = { lxc: [], lxkit: [] };
  for (const who of ['lxc', 'lxkit'] as const) {
    const tool = (verb: string, ...args: string[]) => c.run(who, verb, ...args);
    assert.is((await tool('start', '-d', '--', 'sleep', '60')).exitCode, 0, who);
    try {
      for (const form of forms) {
        const r = await tool('attach', ...form, '--', 'sh', '-c', probe);
        assert.is(r.exitCode, 0, `${who} attach ${form.join(' ')}: ${String(r.stderr)}`);
        seen[who].push(`${form.join(' ') || '(none)'}\n${String(r.stdout)}`);
      }
    } finally {
      await tool('stop', '-k');
    }
  }
  assert.equal(seen.lxkit, seen.lxc);
  // Each part left out on its own, as LXC does: so a change on either side shows.
  const [none, all, cap, cgroup, lsm] = seen.lxc;
  assert.match(none!, /Seccomp: 2/);
  assert.match(all!, /Seccomp: 0/);
  assert.match(cap!, /Seccomp: 2/);
  assert.is.not(cap!.match(/CapBnd: \S+/)![0], none!.match(/CapBnd: \S+/)![0], '-eCAP keeps the full bounding set');
  assert.match(lsm!, /Seccomp: 0/);
  assert.is(cgroup!.match(/CapBnd: \S+/)![0], none!.match(/CapBnd: \S+/)![0]);
  assert.is.not(cgroup!.match(/0::.*/)![0], none!.match(/0::.*/)![0], "-eCGROUP stays in lxkit's cgroup");
});

against(
  "signal dispositions are LXC's: the init of a started container, a command of execute and an attached program ignore and block nothing lxkit's caller did not (posix_spawn leaves the C library's own signals ignored in lxkit's helpers; none reach the container)",
  async (c) => {
    await c.configure('');
    const probe = 'grep -E "^Sig(Ign|Blk)" /proc/self/status | tr -s "\\t " " "';
    const read = async () => (await readFile(join(c.rootfs, 'sig.out'), 'utf8')).trim();
    const execute = await c.both('execute', ['--', 'sh', '-c', `${probe} > /sig.out`], read);
    const seen: Record<'lxc' | 'lxkit', string[]> = { lxc: [`execute: ${execute.lxc}`], lxkit: [`execute: ${execute.lxkit}`] };
    for (const who of ['lxc', 'lxkit'] as const) {
      const tool = (verb: string, ...args: string[]) => c.run(who, verb, ...args);
      assert.is((await tool('start', '-d', '--', 'sleep', '60')).exitCode, 0, who);
      try {
        const init = await tool('attach', '--', 'sh', '-c', 'grep -E "^Sig(Ign|Blk)" /proc/1/status | tr -s "\\t " " "');
        const attached = await tool('attach', '--', 'sh', '-c', probe);
        assert.is(attached.exitCode, 0, `${who} attach: ${String(attached.stderr)}`);
        seen[who].push(`init: ${String(init.stdout)}`, `attach: ${String(attached.stdout)}`);
      } finally {
        await tool('stop', '-k');
      }
    }
    assert.equal(seen.lxkit, seen.lxc);
    // What LXC gives, so that a change on either side shows: nothing ignored or blocked at all here.
    for (const line of seen.lxc) assert.match(line, /^\w+: SigBlk: 0+\nSigIgn: 0+$/, line);
  },
);

/** The processes of a running container, seen from the host: each one's name, whether it leads its session, whether it has a controlling terminal. */
async function sessionsFrom(pid: number): Promise<string[]> {
  const seen: string[] = [];
  const visit = async (p: number) => {
    // A process of the boot may end meanwhile.
    const stat = await readFile(`/proc/${p}/stat`, 'utf8').catch(() => undefined);
    const children = await readFile(`/proc/${p}/task/${p}/children`, 'utf8').catch(() => '');
    if (stat === undefined) return;
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    // After the name: state, ppid, pgrp, session, tty_nr.
    const [, , , session, tty] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    seen.push(`${comm}: ${Number(session) === p ? 'leads its session' : 'in another session'}, ${tty === '0' ? 'no' : 'a'} controlling terminal`);
    for (const child of children.trim().split(' ').filter(Boolean)) await visit(Number(child));
  };
  await visit(pid);
  return seen.sort();
}

/** What the init (pid 1) and the probe itself lead and hold, seen inside; written to $1. */
const SESSION_PROBE = `#!/bin/sh
exec > "$1"
for p in 1 $$; do
  set -- $(sed 's/.*) //' /proc/$p/stat)
  [ $p = 1 ] && who=init || who=command
  echo "$who: session $([ "$4" = $p ] && echo own || echo other), terminal $([ "$5" = 0 ] && echo none || echo some)"
done
`;

against(
  "sessions are LXC's: the init leads one of its own and holds no terminal, so that busybox's askfirst shell and getty take theirs; execute's command leads one of its own",
  async (c) => {
    await c.configure('');
    await c.install('sessions.sh', SESSION_PROBE);
    const read = async () => (await readFile(join(c.rootfs, 'sessions.out'), 'utf8')).trim();
    const execute = await c.both('execute', ['--', '/sessions.sh', '/sessions.out'], read);
    assert.is(execute.lxkit, execute.lxc);
    const booted: Record<'lxc' | 'lxkit', string[]> = { lxc: [], lxkit: [] };
    for (const who of ['lxc', 'lxkit'] as const) {
      const tool = (verb: string, ...args: string[]) => c.run(who, verb, ...args);
      assert.is((await tool('start', '-d')).exitCode, 0, who);
      try {
        const pid = Number((await tool('info', '-pH')).stdout);
        // Booted: syslogd from rcS, a getty on tty1, and the console's askfirst (init's child until Enter).
        booted[who] = await until(async () => {
          const seen = await sessionsFrom(pid);
          return seen.length >= 4 && seen.some((l) => l.startsWith('getty:')) ? seen : undefined;
        }, 10000, `${who}: the busybox container booted`);
      } finally {
        await tool('stop', '-k');
      }
    }
    assert.equal(booted.lxkit, booted.lxc);
    // What LXC gives, so that a change on either side shows.
    assert.is(execute.lxc, 'init: session own, terminal none\ncommand: session own, terminal none');
    assert.ok(booted.lxc.includes('init: leads its session, no controlling terminal'), booted.lxc.join('\n'));
    assert.ok(booted.lxc.includes('init: leads its session, a controlling terminal'), booted.lxc.join('\n'));
  },
);

against("lxc.arch's personality is lxc-start's and lxc-execute's for the init, and lxc-attach's for attached programs (-a overrides it, -e keeps it)", async (c) => {
  const machine = (await execa('uname', ['-m'])).stdout;
  const probe = 'echo $(uname -m) $(cat /proc/self/personality)';
  const seen: Record<'lxc' | 'lxkit', string[]> = { lxc: [], lxkit: [] };
  for (const arch of ['i686', 'x86_64', 'linux32']) {
    await c.configure(`lxc.arch = ${arch}\n`);
    const init = await c.both('execute', ['--', 'sh', '-c', `${probe} > /arch.out`], async () => (await readFile(join(c.rootfs, 'arch.out'), 'utf8')).trim());
    seen.lxc.push(`${arch} execute: ${init.lxc}`);
    seen.lxkit.push(`${arch} execute: ${init.lxkit}`);
    for (const who of ['lxc', 'lxkit'] as const) {
      const tool = (verb: string, ...args: string[]) => c.run(who, verb, ...args);
      assert.is((await tool('start', '-d', '--', 'sleep', '60')).exitCode, 0, who);
      try {
        for (const form of [[], ['-a', 'x86_64'], ['-a', 'i686'], ['-e']]) {
          const r = await tool('attach', ...form, '--', 'sh', '-c', probe);
          assert.is(r.exitCode, 0, `${who} attach ${form.join(' ')}: ${String(r.stderr)}`);
          seen[who].push(`${arch} attach ${form.join(' ')}: ${String(r.stdout)}`);
        }
      } finally {
        await tool('stop', '-k');
      }
    }
  }
  assert.equal(seen.lxkit, seen.lxc);
  if (machine === 'x86_64') {
    assert.ok(seen.lxc.includes('i686 execute: i686 00000008'), seen.lxc.join('\n'));
    assert.ok(seen.lxc.includes('x86_64 attach -a i686: i686 00000008'), seen.lxc.join('\n'));
    assert.ok(seen.lxc.includes('i686 attach -e: i686 00000008'), seen.lxc.join('\n'));
  }
});

against("lxc-attach -R: without the container's mount namespace, /proc and /sys are mounted anew as lxc-attach mounts them, and the host's stay", async (c) => {
  await c.configure('');
  // The devices and mounts the command sees, without mount ids; the host's mount namespace must not change.
  const probe = 'ls /sys/class/net; grep -E " /(proc|sys) " /proc/self/mountinfo | cut -d" " -f4-; hostname';
  const hostNs = await readlink('/proc/self/ns/mnt');
  const hostMountsBefore = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').length;
  const seen: Record<'lxc' | 'lxkit', string[]> = { lxc: [], lxkit: [] };
  for (const who of ['lxc', 'lxkit'] as const) {
    const tool = (verb: string, ...args: string[]) => c.run(who, verb, ...args);
    assert.is((await tool('start', '-d', '--', 'sleep', '60')).exitCode, 0, who);
    try {
      // -R with the mount namespace entered (the default) changes nothing, as with LXC: the init's mounts.
      const same = '[ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/1/ns/mnt)" ] && echo the init mounts';
      for (const [form, script] of [[['-s', 'NETWORK', '-R'], probe], [['-s', 'NETWORK|PID|UTSNAME', '-R'], probe], [['-R'], same]] as const) {
        const r = await tool('attach', ...form, '--', 'sh', '-c', script);
        assert.is(r.exitCode, 0, `${who} attach ${form.join(' ')}: ${String(r.stderr)}`);
        seen[who].push(`${form.join(' ')}\n${String(r.stdout)}`);
      }
    } finally {
      await tool('stop', '-k');
    }
  }
  assert.equal(seen.lxkit, seen.lxc);
  assert.match(seen.lxc[0]!, /^-s NETWORK -R\nlo\n\/ \/proc rw,relatime - proc none rw\n/, 'only the container\'s lo, a new /proc');
  assert.is(await readlink('/proc/self/ns/mnt'), hostNs);
  assert.is((await readFile('/proc/self/mountinfo', 'utf8')).split('\n').length, hostMountsBefore, "the host's mounts stay");
});

against("lxc-info's selections print as lxc-info prints them: -H with one alone is the bare value (-pH is the pid), config items last", async (c) => {
  await c.configure('');
  const forms = [['-s'], ['-sH'], ['-pH'], ['-p'], ['-s', '-p', '-H'], ['-c', 'lxc.uts.name', '-H'], ['-s', '-c', 'lxc.uts.name'], ['-c', 'lxc.uts.name', '-c', 'lxc.tty.max', '-H'], ['-p', '-c', 'lxc.uts.name', '-H']];
  const seen: Record<'lxc' | 'lxkit', string[]> = { lxc: [], lxkit: [] };
  for (const who of ['lxc', 'lxkit'] as const) {
    const tool = (verb: string, ...args: string[]) => c.run(who, verb, ...args);
    const infos = async (when: string) => {
      for (const form of forms) {
        const r = await tool('info', ...form);
        assert.is(r.exitCode, 0, `${who} info ${form.join(' ')}: ${String(r.stderr)}`);
        // The pids differ from run to run.
        seen[who].push(`${when} ${form.join(' ')}: ${String(r.stdout).replace(/[0-9]{2,}/g, 'N')}`);
      }
    };
    await infos('stopped');
    assert.is((await tool('start', '-d', '--', 'sleep', '60')).exitCode, 0, who);
    try {
      await infos('running');
    } finally {
      await tool('stop', '-k');
    }
  }
  assert.equal(seen.lxkit, seen.lxc);
  assert.ok(seen.lxc.includes('running -pH: N'), seen.lxc.join('\n'));
});

/** Prints the calling process's session keyring: its name and its id (a static program: the rootfs is busybox's). */
const KEYRING_PROBE = `#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(void) {
	char buf[256] = "";
	long id = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3L /* KEY_SPEC_SESSION_KEYRING */, 0);
	long n = syscall(SYS_keyctl, 6 /* KEYCTL_DESCRIBE */, id, buf, sizeof(buf) - 1);
	printf("%s %ld\\n", n > 0 && strrchr(buf, ';') ? strrchr(buf, ';') + 1 : "none", id);
	return 0;
}
`;

testIf(
  compat,
  LXC_BUSYBOX_MISSING ?? (which('cc') ? undefined : 'no C compiler for the keyring probe'),
  "the init gets a session keyring of its own, as lxc-start's and lxc-execute's, not the one of the process that started it; lxc.keyring.session as LXC reads it",
  async () => {
    await withLxcBusybox(async (c) => {
      const src = join(c.s.dir, 'keys.c');
      await writeFile(src, KEYRING_PROBE);
      await execa('cc', ['-static', '-O2', '-o', join(c.rootfs, 'keys'), src]);
      // The session keyring of this process, which both tools inherit.
      const own = String((await execa(join(c.rootfs, 'keys'))).stdout).split(' ')[1];
      const read = async () => {
        const [name, id] = (await readFile(join(c.rootfs, 'keys.out'), 'utf8')).trim().split(' ');
        return `${name} ${id === own ? 'the starter\'s' : 'another'}`;
      };
      const seen: Record<'lxc' | 'lxkit', string[]> = { lxc: [], lxkit: [] };
      for (const extra of ['', 'lxc.keyring.session = 0\n', 'lxc.keyring.session = 1\n']) {
        await c.configure(extra);
        for (const [verb, args] of [['execute', []], ['start', ['-F']]] as const) {
          const r = await c.both(verb, [...args, '--', '/bin/sh', '-c', '/keys > /keys.out'], read);
          seen.lxc.push(`${extra.trim() || 'default'}, ${verb}: ${r.lxc}`);
          seen.lxkit.push(`${extra.trim() || 'default'}, ${verb}: ${r.lxkit}`);
        }
      }
      assert.equal(seen.lxkit, seen.lxc);
      // What LXC 5.0.2 does, against its man page: 1 keeps the starter's keyring.
      assert.equal(seen.lxc.slice(0, 4), ['default, execute: _ses another', 'default, start: _ses another', 'lxc.keyring.session = 0, execute: _ses another', 'lxc.keyring.session = 0, start: _ses another']);
      assert.ok(seen.lxc[4]!.endsWith("the starter's"), seen.lxc.join('\n'));
    });
  },
);

against('lxc.signal.stop is what lxc-stop -k sends, and lxc-stop after its timeout: the same with lxkit stop', async (c) => {
  await c.configure('lxc.signal.stop = SIGUSR2\n');
  // An init that says which signal ended it; it ignores the halt signal (busybox's config: SIGUSR1).
  const init = ['sh', '-c', 'trap "echo USR2 > /ended; exit 0" USR2; trap "" USR1; touch /ready; n=0; while [ $n -lt 600 ]; do sleep 0.1; n=$((n+1)); done'];
  const where = ['-P', c.s.lxcpath, '-n', c.name];
  const seen: Record<'lxc' | 'lxkit', string[]> = { lxc: [], lxkit: [] };
  for (const who of ['lxc', 'lxkit'] as const) {
    const tool = (verb: string, ...args: string[]) => c.run(who, verb, ...args);
    for (const stop of [['-k'], ['-t', '1']]) {
      await rm(join(c.rootfs, 'ended'), { force: true });
      await rm(join(c.rootfs, 'ready'), { force: true });
      assert.is((await tool('start', '-d', '--', ...init)).exitCode, 0, who);
      try {
        await until(async () => (existsSync(join(c.rootfs, 'ready')) ? true : undefined), 10_000, 'the init setting its traps');
        const r = await tool('stop', ...stop);
        seen[who].push(`stop ${stop.join(' ')}: exit ${r.exitCode}, ${(await readFile(join(c.rootfs, 'ended'), 'utf8').catch(() => 'no trap ran')).trim()}`);
      } finally {
        await execa('lxc-stop', [...where, '-k'], { reject: false });
        await lxkit(['stop', ...where, '-k'], { env: c.s.env });
      }
    }
  }
  assert.equal(seen.lxkit, seen.lxc);
  assert.equal(seen.lxc, ['stop -k: exit 0, USR2', 'stop -t 1: exit 0, USR2']);
});

against("lxc.sched.core: a core scheduling domain where the kernel has core scheduling, else the start fails as lxc-execute's does, naming the key; a shared pid namespace is refused", async (c) => {
  const where = ['-P', c.s.lxcpath, '-n', c.name];
  for (const extra of ['', 'lxc.namespace.keep = pid\n']) {
    await c.configure(`lxc.sched.core = 1\n${extra}`);
    const lxc = await execa('lxc-execute', [...where, '--', 'true'], { reject: false, input: '' });
    const ours = await lxkit(['execute', ...where, '--', 'true'], { env: c.s.env, input: '' });
    assert.is(ours.exitCode === 0, lxc.exitCode === 0 && !/Failed/.test(String(lxc.stderr)), `${extra || 'its own pid namespace'}: lxkit starts where LXC starts (${String(lxc.stderr)})`);
    if (ours.exitCode !== 0) assert.match(ours.stderr, /lxc\.sched\.core/);
    if (extra) assert.match(ours.stderr, /lxc\.sched\.core needs a pid namespace of the container's own/);
  }
  assert.equal(await containerCgroups([c.name]), [], 'nothing left of the failed starts');
});

against("lxc.console.size and lxc.console.rotate keep the console log within the limit as LXC does: rotated to .1 when full, or emptied and begun again", async (c) => {
  // About 5000 bytes through the console of a daemon.
  const init = ['sh', '-c', 'exec > /dev/console 2>&1; i=0; while [ $i -lt 100 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done'];
  const logs: Record<string, string | undefined> = {};
  for (const rotate of ['1', '0']) {
    for (const who of ['lxc', 'lxkit'] as const) {
      const log = join(c.s.dir, `${who}-${rotate}.log`);
      await c.configure(`lxc.console.logfile = ${log}\nlxc.console.size = 4096\nlxc.console.rotate = ${rotate}\n`);
      const tool = (verb: string, ...args: string[]) => c.run(who, verb, ...args);
      assert.is((await tool('start', '-d', '--', ...init)).exitCode, 0, who);
      // lxc-wait may find the monitor gone meanwhile (and say so): the state is what counts.
      await tool('wait', '-s', 'STOPPED', '-t', '10');
      await until(async () => ((await tool('info', '-sH')).stdout === 'STOPPED' || undefined), 10_000, `${who}: the container stopped`);
      logs[`${who}-${rotate}`] = await readFile(log, 'utf8');
      logs[`${who}-${rotate}.1`] = await readFile(`${log}.1`, 'utf8').catch(() => undefined);
    }
  }
  const all = Array.from({ length: 100 }, (_, i) => `line-${i}-${'x'.repeat(40)}\r\n`).join('');
  // Rotated: a full .1 and the rest in the log, in both. Which bytes LXC keeps depends on how the output
  // came in; lxkit loses none, whatever the pieces it reads.
  for (const who of ['lxc', 'lxkit']) {
    assert.equal([logs[`${who}-1.1`]!.length, logs[`${who}-1`]!.length], [4096, all.length - 4096], `${who}, rotated`);
  }
  assert.is(logs['lxkit-1.1']! + logs['lxkit-1']!, all, 'nothing lost across the rotation');
  // Not rotated: never above the limit, no .1; what is kept depends on how the output came in (lxkit's is one piece of it).
  for (const who of ['lxc', 'lxkit']) {
    const kept = logs[`${who}-0`]!;
    assert.ok(kept.length > 0 && kept.length <= 4096, `${who}, not rotated: ${kept.length} bytes`);
    assert.is(logs[`${who}-0.1`], undefined);
  }
  assert.ok(all.includes(logs['lxkit-0']!), 'one piece of the output');
});

against("a daemon's init has /dev/null for stdin, stdout and stderr, and its console is /dev/console only (rw--w----), as lxc-start -d gives them: the boot's console log is LXC's", async (c) => {
  const seen: Record<'lxc' | 'lxkit', string> = { lxc: '', lxkit: '' };
  for (const who of ['lxc', 'lxkit'] as const) {
    const log = join(c.s.dir, `${who}.log`);
    await c.configure(`lxc.console.logfile = ${log}\n`);
    assert.is((await c.run(who, 'start', '-d')).exitCode, 0, who);
    try {
      // Booted: busybox's askfirst says so on the console it opens itself.
      await until(async () => ((await readFile(log, 'utf8').catch(() => '')).includes('Please press Enter') || undefined), 10_000, `${who}: the boot`);
      const probe = await c.run(who, 'attach', '--', 'sh', '-c', 'for fd in 0 1 2; do echo "$fd $(readlink /proc/1/fd/$fd)"; done; stat -c "console %a %U" /dev/console');
      assert.is(probe.exitCode, 0, `${who}: ${String(probe.stderr)}`);
      seen[who] = `${String(probe.stdout)}\nlog ${JSON.stringify(await readFile(log, 'utf8'))}`;
    } finally {
      await c.run(who, 'stop', '-k');
    }
  }
  assert.is(seen.lxkit, seen.lxc);
  // What lxc-start -d does: rcS's output (udhcpc finds no eth0) goes nowhere.
  assert.match(seen.lxc, /^0 \/dev\/null\n1 \/dev\/null\n2 \/dev\/null\nconsole 620 root\n/);
});

/** A client of liblxc's console_log() (lxc-dev's header): `ring LXCPATH NAME read|clear|readclear|none [MAX]` writes what it read; its exit status is the errno. */
const CONSOLE_LOG_CLIENT = `#include <lxc/lxccontainer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv)
{
	struct lxc_container *c = lxc_container_new(argv[2], argv[1]);
	if (!c)
		return 100;
	uint64_t max = argc > 4 ? strtoull(argv[4], NULL, 10) : 0;
	struct lxc_console_log log = { .clear = strstr(argv[3], "clear") != NULL, .read = strstr(argv[3], "read") != NULL, .read_max = &max };
	int ret = c->console_log(c, &log);
	if (ret == 0 && log.data)
		fwrite(log.data, 1, max, stdout);
	return ret < 0 ? -ret : ret;
}
`;
const NO_LXC_DEV = existsSync('/usr/include/lxc/lxccontainer.h') ? (which('gcc') ? undefined : 'gcc is not installed') : "lxc-dev is not installed (liblxc's header, for a console_log() client)";

testIf(compat, LXC_BUSYBOX_MISSING ?? NO_LXC_DEV, "lxc.console.buffer.size: lxkit's consoleLog() gives what LXC's console_log() gives, read by read (the last bytes of a ring rounded up to a power of two: all of it with lxkit, up to one read fewer with LXC; max, clear, read and clear); lxc.console.size is rounded the same way", () =>
  withLxcBusybox(async (c) => {
    const client = join(c.s.dir, 'ring');
    await writeFile(`${client}.c`, CONSOLE_LOG_CLIENT);
    await execa('gcc', ['-o', client, `${client}.c`, '-llxc']);
    const lines = (n: number, tag: string) => `i=0; while [ $i -lt ${n} ]; do echo "${tag} $i ${'0123456789'.repeat(4)}"; i=$((i+1)); done`;
    const all = Array.from({ length: 200 }, (_, i) => `line ${i} ${'0123456789'.repeat(4)}\r\n`).join('');
    type Step = [what: string, script: string | undefined, mode: 'read' | 'clear' | 'readclear' | 'none', max: number];
    const steps: Step[] = [
      ['200 lines, read', lines(200, 'line'), 'read', 0],
      ['read again', undefined, 'read', 0],
      ['one, two, read 5', 'echo one; echo two', 'read', 5],
      ['neither', undefined, 'none', 0],
      ['clear', undefined, 'clear', 0],
      ['read after clear', undefined, 'read', 0],
      ['three, read 3 and clear', 'echo three', 'readclear', 3],
      ['read after that', undefined, 'read', 0],
    ];
    const seen: Record<string, string[]> = { lxc: [], lxkit: [] };
    for (const size of ['5000', '0']) {
      for (const who of ['lxc', 'lxkit'] as const) {
        const log = join(c.s.dir, `${who}-${size}.log`);
        await c.configure(`lxc.console.buffer.size = ${size}\nlxc.console.logfile = ${log}\nlxc.console.size = ${size}\nlxc.console.rotate = 1\n`);
        // A quiet init: the console has only what the steps write on it.
        assert.is((await c.run(who, 'start', '-d', '--', 'sh', '-c', 'while :; do sleep 1; done')).exitCode, 0, who);
        try {
          const container = new Container(c.name, { lxcpath: c.s.lxcpath });
          for (const [what, script, mode, max] of size === '5000' ? steps : steps.slice(0, 1)) {
            if (script) {
              const r = await c.run(who, 'attach', '--', 'sh', '-c', `{ ${script}; } > /dev/console`);
              assert.is(r.exitCode, 0, `${who}: ${String(r.stderr)}`);
              // Through the monitor into the log too: the last line is there.
              const last = script.startsWith('i=0') ? '199 ' : script.split('echo ').pop()!;
              await until(async () => ((await readFile(log, 'utf8').catch(() => '')).includes(last) || undefined), 10_000, `${who}: ${what}`);
            }
            let got: string;
            if (who === 'lxc') {
              const r = await execa(client, [c.s.lxcpath, c.name, mode, String(max)], { reject: false, encoding: 'buffer', stripFinalNewline: false });
              // ENODATA: nothing to read (lxkit gives an empty buffer); any other errno is a failure.
              assert.ok(r.exitCode === 0 || (r.exitCode === 61 && mode.includes('read')), `${what}: console_log() failed with errno ${r.exitCode}`);
              got = Buffer.from(r.stdout).toString('latin1');
            } else {
              got = (await container.consoleLog({ read: mode.includes('read'), clear: mode.includes('clear'), max })).toString('latin1');
            }
            if (what === '200 lines, read') {
              // LXC's ring drops a whole write's worth (one read of the console, up to 4 KiB) when it does not fit,
              // where lxkit's drops what it must: LXC keeps the last bytes, up to a read fewer.
              const ring = size === '5000' ? 8192 : 4096;
              assert.ok(all.endsWith(got), `${who}: the last bytes of the output`);
              if (who === 'lxkit') assert.is(got.length, ring, 'lxkit: exactly the size of the ring');
              else assert.ok(got.length > ring - 4096 && got.length <= ring, `LXC: ${got.length} bytes of a ring of ${ring}`);
              seen[who]!.push(`${size} ${what}: the last bytes, up to ${ring}`);
            } else {
              seen[who]!.push(`${size} ${what}: ${got.length} bytes, ${JSON.stringify(got)}`);
            }
          }
          if (size === '5000') seen[who]!.push(`the log rotated at ${(await readFile(`${log}.1`)).length} bytes`);
        } finally {
          await c.run(who, 'stop', '-k');
        }
      }
    }
    assert.equal(seen['lxkit'], seen['lxc']);
    // What LXC does, against its man page's "at least a page".
    assert.ok(seen['lxc']!.includes('the log rotated at 8192 bytes'), seen['lxc']!.join('\n'));
    assert.is(seen['lxc']!.at(-1)!, '0 200 lines, read: the last bytes, up to 4096', 'a size of 0 is a page');
  }),
);

against("autostart selects and orders as lxc-autostart (lxc.start.auto, .order, .delay, lxc.group, -a, -A, -g), starts and stops them", async (c) => {
  // Six containers on the busybox rootfs: two groups, orders, delays, one not auto-started.
  const lxcpath = join(c.s.dir, 'auto');
  const fixtures: Record<string, string> = {
    a: 'lxc.start.auto = 1\nlxc.start.order = 10\nlxc.start.delay = 1\n',
    b: 'lxc.start.auto = 1\nlxc.start.order = 20\n',
    c: 'lxc.start.auto = 1\nlxc.group = web\nlxc.start.order = 5\nlxc.start.delay = 1\n',
    d: 'lxc.start.auto = 0\n',
    e: 'lxc.start.auto = 1\nlxc.group = onboot\nlxc.group = web\n',
    f: 'lxc.start.auto = 1\nlxc.start.order = 10\n',
  };
  for (const [name, keys] of Object.entries(fixtures)) {
    await mkdir(join(lxcpath, name), { recursive: true });
    const base = `lxc.rootfs.path = dir:${c.rootfs}\nlxc.uts.name = ${name}\nlxc.net.0.type = empty\nlxc.autodev = 1\nlxc.init.cmd = /bin/sleep 60\nlxc.signal.halt = SIGKILL\n`;
    await writeFile(join(lxcpath, name, 'config'), base + keys);
  }
  const lxc = async (...args: string[]) => String((await execa('lxc-autostart', ['-P', lxcpath, ...args], { input: '' })).stdout);
  const ours = async (...args: string[]) => {
    const r = await lxkit(['autostart', '-P', lxcpath, ...args], { env: c.s.env, input: '' });
    assert.is(r.exitCode, 0, r.stderr);
    return r.stdout;
  };
  const states = async () => (await lxkit(['ls', '-P', lxcpath, '--running'], { env: c.s.env })).stdout;
  try {
    for (const opts of [[], ['-a'], ['-A'], ['-a', '-A'], ['-g', 'web'], ['-g', 'onboot,'], ['-g', 'web,,onboot'], ['-r']]) {
      assert.is(await ours('-L', ...opts), await lxc('-L', ...opts), `-L ${opts.join(' ')}`);
    }
    assert.is(await ours('-L'), 'a 1\nf 0\nb 0', 'lxc.start.order, lower first, then by name; the delays');
    // The NULL group first, then web: LXC 5.0.2 stops after the NULL group (its man page says it goes on).
    assert.is(await ours('-L', '-g', ',web'), 'a 1\nf 0\nb 0\ne 0\nc 1');
    await ours();
    assert.is(await states(), 'a\nb\nf', 'the NULL group started');
    assert.is(await ours('-L'), '', 'nothing left to start');
    assert.is(await ours('-L', '-s', '-a'), 'b\nf\na');
    await ours('-g', 'web');
    assert.is(await ours('-L', '-k', '-a'), 'b\nf\na\nc\ne', 'stopped the other way round');
    // What lxc-autostart lists to stop, for the same containers started by LXC.
    await ours('-k', '-a');
    assert.is(await states(), '');
    await lxc('-a');
    assert.is(await lxc('-L', '-k', '-a'), 'b\nf\na\nc\ne');
    await lxc('-k', '-a');
    await ours('-a');
    await ours('-s', '-t', '5', '-a');
    assert.is(await states(), '', 'shut down');
  } finally {
    await execa('lxc-autostart', ['-P', lxcpath, '-k', '-a', '-A'], { reject: false });
    await lxkit(['autostart', '-P', lxcpath, '-k', '-a', '-A'], { env: c.s.env });
  }
});

testIf(compat, LXC_BUSYBOX_MISSING, 'a container LXC made under a name LXC takes (@, :, ü, a leading _) runs under lxkit: start, info, attach, ls, stop', async () => {
  const name = '_web@db:ü';
  await withLxcBusybox(async (c) => {
    await c.configure('');
    const run = (...args: string[]) => lxkit([args[0]!, '-P', c.s.lxcpath, '-n', name, ...args.slice(1)], { env: c.s.env });
    try {
      const started = await run('start', '-d');
      assert.is(started.exitCode, 0, started.stderr);
      assert.is((await run('info', '-s')).stdout, 'State:          RUNNING');
      // The busybox template names the host after the container, as LXC's does.
      const inside = await run('attach', '--', 'hostname');
      assert.equal([inside.exitCode, inside.stdout], [0, name], inside.stderr);
      const listed = await lxkit(['ls', '-P', c.s.lxcpath, '-1'], { env: c.s.env });
      const lxcListed = await execa('lxc-ls', ['-P', c.s.lxcpath, '-1']);
      assert.equal(listed.stdout.split('\n'), [name]);
      assert.equal(String(lxcListed.stdout).split('\n'), [name], 'lxc-ls lists it so');
      const stopped = await run('stop', '-k');
      assert.is(stopped.exitCode, 0, stopped.stderr);
      assert.is((await run('info', '-s')).stdout, 'State:          STOPPED');
    } finally {
      await run('stop', '-k');
    }
  }, name);
});

const SNAPSHOT_MISSING = LXC_BUSYBOX_MISSING ?? (which('rsync') ? undefined : 'rsync is not installed (lxc-snapshot copies a dir rootfs with it; npm run setup installs it)');

testIf(compat, SNAPSHOT_MISSING, 'a container with snapshots (lxc-snapshot) is refused by destroy as by lxc-destroy, nothing removed and a running one left running; -s destroys them with it', () =>
  withLxcBusybox(async (c) => {
    const dir = join(c.s.lxcpath, c.name);
    await c.configure('');
    await execa('lxc-snapshot', ['-P', c.s.lxcpath, '-n', c.name]);
    assert.ok(existsSync(join(dir, 'snaps', 'snap0', 'config')), 'lxc-snapshot made snap0');
    const theirs = await c.run('lxc', 'destroy');
    assert.is(theirs.exitCode, 1);
    assert.match(String(theirs.stderr), /has snapshots/);
    const ours = await c.run('lxkit', 'destroy');
    assert.is(ours.exitCode, 1);
    assert.match(String(ours.stderr), /cannot destroy container "bb": it has snapshots \(snap0\); -s \(--snapshots\) destroys them with it/);
    assert.ok(existsSync(join(dir, 'rootfs', 'bin', 'busybox')) && existsSync(join(dir, 'snaps', 'snap0', 'rootfs', 'bin', 'busybox')), 'nothing removed');
    // -f kills nothing before the check: a refused destroy leaves the container running.
    assert.is((await c.run('lxkit', 'start')).exitCode, 0);
    const forced = await c.run('lxkit', 'destroy', '-f');
    assert.is(forced.exitCode, 1);
    assert.match(String(forced.stderr), /it has snapshots \(snap0\)/);
    assert.is(String((await c.run('lxkit', 'info', '-sH')).stdout), 'RUNNING');
    const all = await c.run('lxkit', 'destroy', '-s', '-f');
    assert.is(all.exitCode, 0, String(all.stderr));
    assert.not.ok(existsSync(dir), 'the container and its snapshots are gone');
  }),
);

testIf(compat, LXC_BUSYBOX_MISSING, 'snapshot clones (lxc-copy -s): their origin is refused as by lxc-destroy; destroying a clone takes it off the list LXC keeps, so LXC and lxkit then destroy the origin', () =>
  withLxcBusybox(async (c) => {
    const where = ['-P', c.s.lxcpath];
    const list = join(c.s.lxcpath, c.name, 'lxc_snapshots');
    try {
      for (const clone of ['bb2', 'bb3']) await execa('lxc-copy', [...where, '-n', c.name, '-N', clone, '-s']);
      assert.equal(await readFile(list, 'utf8'), `${c.s.lxcpath}\nbb2\n${c.s.lxcpath}\nbb3\n`, 'LXC lists both clones');
      const theirs = await c.run('lxc', 'destroy');
      assert.is(theirs.exitCode, 1);
      assert.match(String(theirs.stderr), /has clones/);
      for (const args of [[], ['-s']]) {
        const ours = await c.run('lxkit', 'destroy', ...args);
        assert.is(ours.exitCode, 1);
        assert.match(String(ours.stderr), new RegExp(`cannot destroy container "bb": snapshot clones use its root filesystem \\(bb2 in ${c.s.lxcpath}, bb3 in ${c.s.lxcpath}\\): destroy them first`));
      }
      assert.ok(existsSync(join(c.rootfs, 'bin', 'busybox')), 'nothing removed');
      // lxkit takes bb2 off the list and leaves bb3 on it, as LXC writes it.
      const clone = await lxkit(['destroy', ...where, '-n', 'bb2'], { env: c.s.env });
      assert.is(clone.exitCode, 0, clone.stderr);
      assert.not.ok(existsSync(join(c.s.lxcpath, 'bb2')));
      assert.equal(await readFile(list, 'utf8'), `${c.s.lxcpath}\nbb3\n`);
      // LXC takes the last one off; the origin is then anyone's to destroy.
      assert.is((await execa('lxc-destroy', [...where, '-n', 'bb3'], { reject: false })).exitCode, 0);
      assert.not.ok(existsSync(list), 'LXC removed the emptied list');
      await execa('lxc-copy', [...where, '-n', c.name, '-N', 'bb4', '-s']);
      assert.is((await lxkit(['destroy', ...where, '-n', 'bb4'], { env: c.s.env })).exitCode, 0);
      assert.not.ok(existsSync(list), 'lxkit removes the list with its last clone, as LXC does');
      assert.is((await c.run('lxc', 'destroy')).exitCode, 0, 'LXC destroys the origin after lxkit destroyed its clone');
    } finally {
      for (const clone of ['bb2', 'bb3', 'bb4']) await execa('lxc-destroy', [...where, '-n', clone], { reject: false });
    }
  }),
);

testIf(compat, LXC_BUSYBOX_MISSING, "a dir rootfs outside the container's directory (lxc-create --dir) goes with the destroy, as with lxc-destroy, unless lxc.rootfs.managed = 0", async () => {
  await withScratch(async (s) => {
    const where = ['-P', s.lxcpath];
    for (const managed of [true, false]) {
      const rootfs = join(s.dir, managed ? 'outside' : 'kept');
      await execa('lxc-create', [...where, '-n', 'out', '-t', 'busybox', '--dir', rootfs]);
      const config = join(s.lxcpath, 'out', 'config');
      assert.match(await readFile(config, 'utf8'), new RegExp(`^lxc\\.rootfs\\.path = dir:${rootfs}$`, 'm'));
      if (!managed) await writeFile(config, (await readFile(config, 'utf8')) + 'lxc.rootfs.managed = 0\n');
      const r = await lxkit(['destroy', ...where, '-n', 'out'], { env: s.env });
      assert.is(r.exitCode, 0, r.stderr);
      assert.not.ok(existsSync(join(s.lxcpath, 'out')));
      assert.is(existsSync(join(rootfs, 'bin', 'busybox')), !managed, managed ? 'the rootfs is gone' : 'an unmanaged rootfs stays');
    }
  });
});

testIf(compat, LXC_BUSYBOX_MISSING, 'create -B and --dir as lxc-create: the rootfs where --dir says (a directory there used, its files kept), -B best is dir; other storage types and a --dir above the container are refused with nothing made', async () => {
  await withScratch(async (s) => {
    const where = ['-P', s.lxcpath];
    const rootfsOf = async (name: string) => /^lxc\.rootfs\.path = (.*)$/m.exec(await readFile(join(s.lxcpath, name, 'config'), 'utf8'))?.[1];
    const create = (who: 'lxc' | 'lxkit', name: string, ...args: string[]) =>
      who === 'lxc' ? execa('lxc-create', [...where, '-n', name, '-t', 'busybox', ...args], { reject: false }) : lxkit(['create', ...where, '-n', name, '-t', 'busybox', ...args], { env: s.env });
    try {
      for (const who of ['lxc', 'lxkit'] as const) {
        const dir = join(s.dir, `${who}-root`);
        await mkdir(dir);
        await writeFile(join(dir, 'kept'), 'x\n');
        const r = await create(who, `${who}-dir`, '--dir', dir);
        assert.is(r.exitCode, 0, `${who}: ${String(r.stderr)}`);
        assert.is(await rootfsOf(`${who}-dir`), `dir:${dir}`, who);
        assert.ok(existsSync(join(dir, 'bin', 'busybox')) && existsSync(join(dir, 'kept')), `${who}: the template filled the directory, its file kept`);
        const best = await create(who, `${who}-best`, '-B', 'best');
        assert.is(best.exitCode, 0, `${who}: ${String(best.stderr)}`);
        assert.is(await rootfsOf(`${who}-best`), `dir:${join(s.lxcpath, `${who}-best`, 'rootfs')}`, who);
      }
      // What lxkit cannot make: refused with nothing left (lxc-create -B btrfs on ext4 leaves the directory).
      const btrfs = await create('lxkit', 'b', '-B', 'btrfs');
      assert.is(btrfs.exitCode, 1);
      assert.match(btrfs.stderr, /cannot make a btrfs root filesystem for container "b": .* is not on a btrfs filesystem/);
      assert.not.ok(existsSync(join(s.lxcpath, 'b')));
      const rbd = await create('lxkit', 'b', '-B', 'rbd');
      assert.is(rbd.exitCode, 1);
      assert.match(rbd.stderr, /container "b": storage type "rbd" is not available \(no enabled plugin provides it\)/);
      const above = await create('lxkit', 'b', '--dir', s.lxcpath);
      assert.is(above.exitCode, 1);
      assert.match(above.stderr, /root filesystem in .*: that is its own directory or one above it/);
      const bad = await create('lxkit', 'b', '-B', 'nosuch');
      assert.not.equal(bad.exitCode, 0);
      assert.match(bad.stderr, /"nosuch" is not a storage type; use dir, best, btrfs/);
      // A failed create removes the --dir directory it made, and only that.
      const failed = await create('lxkit', 'b', '--dir', join(s.dir, 'new-root'), '--', '--no-such-option');
      assert.is(failed.exitCode, 1);
      assert.not.ok(existsSync(join(s.dir, 'new-root')));
      assert.not.ok(existsSync(join(s.lxcpath, 'b')));
    } finally {
      for (const name of ['lxc-dir', 'lxc-best']) await execa('lxc-destroy', [...where, '-n', name], { reject: false });
    }
  });
});

against("monitor prints what lxc-monitor prints for an application container: its states and its command's exit status", async (c) => {
  await c.configure('');
  const seen: Record<'lxc' | 'lxkit', string[]> = { lxc: [], lxkit: [] };
  try {
    for (const who of ['lxc', 'lxkit'] as const) {
      const args = ['-P', c.s.lxcpath, '-n', c.name];
      const watch =
        who === 'lxc'
          ? execa('lxc-monitor', args, { reject: false })
          : execa(process.execPath, [LXKIT_BIN, 'monitor', ...args], { env: { ...c.s.env, NODE_EXTRA_CA_CERTS: '' }, reject: false });
      let out = '';
      watch.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      try {
        // lxkit monitor listens once it has registered (after its socket is there); lxc-monitor once it is connected
        // to LXC's monitor daemon (the daemon's side of that connection carries its name, in state 03: connected).
        const connected = (line: string) => line.includes('@lxc/') && line.endsWith(`/${c.s.lxcpath}`) && line.split(/\s+/)[5] === '03';
        const listening = async () =>
          who === 'lxc' ? (await readFile('/proc/net/unix', 'utf8')).split('\n').some(connected) : existsSync(join(watchDir(c.s.lxcpath), String(watch.pid)));
        await until(async () => ((await listening()) ? true : undefined), 10_000, `${who} monitor listening`);
        const r = await c.run(who, 'execute', '--', 'sh', '-c', 'exit 3');
        assert.is(r.exitCode, 3, String(r.stderr));
        await until(async () => (out.includes('[STOPPED]') ? true : undefined), 10_000, `${who}: STOPPED printed`);
      } finally {
        watch.kill('SIGINT');
        await watch;
      }
      seen[who] = out.trim().split('\n');
    }
  } finally {
    // lxc-monitor started LXC's monitor daemon for the lxcpath: it goes too.
    await execa('lxc-monitor', ['-P', c.s.lxcpath, '-Q'], { reject: false });
  }
  assert.equal(seen.lxkit, seen.lxc);
  assert.equal(seen.lxkit, [
    "'bb' changed state to [STARTING]",
    "'bb' changed state to [RUNNING]",
    "'bb' exited with status [3]",
    "'bb' changed state to [STOPPING]",
    "'bb' changed state to [STOPPED]",
  ]);
});

testIf(compat, LXC_MISSING, 'usernsexec runs a command as root in a user namespace as lxc-usernsexec does: the maps given or the subordinate ids, its exit status, refusals', () =>
  // Where newuidmap is installed LXC maps through it, root too, which needs root's range in /etc/subuid and /etc/subgid.
  withSubordinateIds('root:100000:65536', usernsexecAsLxc),
);

async function usernsexecAsLxc() {
  const probe = ['sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; exit 7'];
  const both = async (args: string[], input = '') => {
    const lxc = await execa('lxc-usernsexec', args, { reject: false, input });
    const ours = await lxkit(['usernsexec', ...args], { input });
    return { lxc: { code: lxc.exitCode, out: String(lxc.stdout) }, lxkit: { code: ours.exitCode, out: ours.stdout }, stderr: ours.stderr };
  };
  for (const maps of [['-m', 'b:0:100000:65536'], ['-m', 'u:0:100000:1', '-m', 'g:0:100001:1', '-m', 'b:1:100010:10'], []]) {
    const r = await both([...maps, '--', ...probe]);
    assert.equal(r.lxkit, r.lxc, `${maps.join(' ') || 'the subordinate ids'}: ${r.stderr}`);
    // Without maps both read /etc/subuid: a host with no range for root fails both, as compared above.
    if (maps.length > 0) assert.is(r.lxkit.code, 7, r.stderr);
  }
  // Only the first range counts: a second one (or the same line twice) is left out by both.
  const second = await withSubordinateIds('root:300000:1000', () => both(['--', ...probe]));
  assert.equal(second.lxkit, second.lxc, `a second range: ${second.stderr}`);
  assert.equal(second.lxkit, { code: 7, out: ['         0     100000      65536', '         0     100000      65536', '0', '0'].join('\n') });
  assert.match((await both(['-m', 'b:0:100000:65536', '--', ...probe])).lxkit.out, /^ +0 +100000 +65536\n +0 +100000 +65536\n0\n0$/);
  // A shell by default, reading this stdin.
  const shell = await both(['-m', 'b:0:100000:10'], 'id -u\nexit 4\n');
  assert.equal(shell.lxkit, shell.lxc);
  assert.equal(shell.lxkit, { code: 4, out: '0' });
  // Failures: no root inside, a malformed map, a program that does not exist.
  for (const args of [['-m', 'u:0:100000:10', '--', 'true'], ['-m', 'x:0:1:1', '--', 'true'], ['-m', 'b:0:100000:10', '--', '/nonexistent']]) {
    const r = await both(args);
    assert.is(r.lxc.code, 1, `lxc-usernsexec ${args.join(' ')}`);
    assert.is(r.lxkit.code, 1, `lxkit usernsexec ${args.join(' ')}`);
  }
  const noRoot = await lxkit(['usernsexec', '-m', 'u:0:100000:10', '--', 'true']);
  assert.match(noRoot.stderr, /no map gives gid 0 inside/);
}

testIf(compat, undefined, "usernsexec: the command's mounts stay in a mount namespace of its own", async () => {
  await withTmpDir(async (dir) => {
    const r = await lxkit(['usernsexec', '-m', 'b:0:100000:10', '--', 'sh', '-c', `mount -t tmpfs none ${dir} && grep -c " ${dir} " /proc/self/mountinfo`]);
    assert.is(r.exitCode, 0, r.stderr);
    assert.is(r.stdout, '1', 'mounted inside');
    assert.not.ok((await readFile('/proc/self/mountinfo', 'utf8')).includes(` ${dir} `), 'not on the host');
  });
});

against('lxc.log.file and lxc.log.level: the lines about the container go to the file at that priority, as with lxc-execute; -o moves them, and -l counts only where the config sets no priority', async (c) => {
  const lines = async (file: string) => (existsSync(file) ? (await readFile(file, 'utf8')).split('\n').filter(Boolean) : []);
  for (const who of ['lxc', 'lxkit'] as const) {
    const file = join(c.s.dir, `${who}.log`);
    const other = join(c.s.dir, `${who}-o.log`);
    await c.configure(`lxc.log.file = ${file}\nlxc.log.level = INFO\n`);
    const run = async (...args: string[]) => assert.is((await c.run(who, 'execute', ...args, '--', 'true')).exitCode, 0, `${who} execute ${args.join(' ')}`);
    await run();
    const first = await lines(file);
    assert.ok(first.length > 0, `${who}: lines at INFO`);
    for (const l of first) assert.match(l, new RegExp(`^${who}-execute ${c.name} [0-9]{14}\\.[0-9]{3} (INFO|NOTICE|WARN|ERROR) +\\S+ - `), who);
    // -o: the command line's file instead (at its -l), the config's untouched.
    await run('-o', other, '-l', 'INFO');
    assert.is((await lines(file)).length, first.length, `${who} -o: nothing more in lxc.log.file`);
    assert.ok((await lines(other)).length > 0, `${who} -o: lines in the -o file`);
    // -l ERROR without -o: lxc.log.level still decides for its file.
    await run('-l', 'ERROR');
    assert.ok((await lines(file)).length > first.length, `${who} -l ERROR: lxc.log.level = INFO still counts`);
    // No lxc.log.level: ERROR, and nothing goes wrong here.
    await c.configure(`lxc.log.file = ${file}\n`);
    const before = (await lines(file)).length;
    await run();
    assert.is((await lines(file)).length, before, `${who}: ERROR by default`);
  }
});

against('a stop the init ignores leaves the container RUNNING, as with lxc-stop: the state changes only once the init exits', async (c) => {
  await c.configure('');
  for (const who of ['lxc', 'lxkit'] as const) {
    // sleep as the init ignores the halt signal (PID 1 of its pid namespace, with no handler).
    assert.is((await c.run(who, 'start', '--', 'sleep', '1000')).exitCode, 0, who);
    try {
      const refused = await c.run(who, 'stop', '-t', '1', '--nokill');
      assert.is(refused.exitCode, 1, `${who} stop --nokill`);
      assert.is(String((await c.run(who, 'info', '-sH')).stdout), 'RUNNING', `${who}: still running`);
    } finally {
      assert.is((await c.run(who, 'stop', '-k')).exitCode, 0, `${who} stop -k`);
    }
    assert.is(String((await c.run(who, 'info', '-sH')).stdout), 'STOPPED', who);
  }
});

const others = ['lxc-download needs network access to an image server', 'lxc-oci needs skopeo and umoci, which lxkit does not install'];
testIf(compat, 'needs what this machine must not use: ' + others.join('; '), 'the configs of the download and oci templates', async () => {
  const templates = await readdir('/usr/share/lxc/templates');
  assert.ok(templates.includes('lxc-download'));
});

compat.run();
