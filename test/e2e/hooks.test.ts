/**
 * Site hook scripts: run at LXC's moments with LXC's arguments and
 * environment (checked against lxc-start itself on the same container), a
 * failing hook aborts the start while post-stop still runs, zx scripts.
 */
import { chmod, copyFile, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { hostMounts, lxkit, testIf, which, withScratch, type Scratch } from '../lib/harness.js';
import { withLxcBusybox } from '../lib/lxc-busybox.js';

/**
 * Records each call: its arguments, the names of its LXC_* variables (most values vary run to
 * run, and LXC_ROOTFS_MOUNT is LXC's own mount point), LXC_ROOTFS_PATH's value and
 * FROM_CONFIG's, which the config sets with lxc.environment.
 */
const RECORDER = `#!/bin/sh
log="$HOOKDIR/log"
[ -d "$HOOKDIR" ] || log=/hooklog
echo "args=$* | env=$(env | grep -E '^LXC_' | cut -d= -f1 | sort | tr '\\n' ' ') | rootfs=$LXC_ROOTFS_PATH | config=$FROM_CONFIG" >> "$log"
`;

const HOOK_TYPES = ['pre-start', 'pre-mount', 'mount', 'autodev', 'start-host', 'start', 'stop', 'post-stop'];

/**
 * Words after the script on each host hook line: LXC runs the line with sh -c, in the hook's
 * environment. (Its start hook, run inside, must be a bare path: LXC checks that it exists.)
 */
const VARIABLE_WORDS = `$LXC_NAME "$LXC_HOOK_VERSION x" '$LXC_NAME' $UNSET_IN_LXKIT_TESTS`;

async function hookConfig(s: Scratch, rootfs: string, extra = '', words = ''): Promise<string> {
  const script = join(s.dir, 'rec.sh');
  await writeFile(script, RECORDER.replace('$HOOKDIR', s.dir).replace('$HOOKDIR', s.dir), { mode: 0o755 });
  await copyFile(script, join(rootfs, 'rec.sh'));
  await chmod(join(rootfs, 'rec.sh'), 0o755);
  return HOOK_TYPES.map((t) => `lxc.hook.${t} = ${t === 'start' ? '/rec.sh' : `${script}${words ? ` ${words}` : ''}`}\n`).join('') + extra;
}

const normalize = (log: string) => log.replace(/\/proc\/[0-9]+\/fd\/[0-9]+/g, 'FD').trim().split('\n');

const hooks = suite('site hook scripts');

testIf(
  hooks,
  which('lxc-start') ? undefined : "Debian's lxc is not installed",
  'fire in the order, with the arguments and environment of lxc-start on the same LXC container',
  async () => {
    await withLxcBusybox(async (c) => {
      const s = c.s;
      const configFile = join(s.lxcpath, 'bb', 'config');
      await c.configure(await hookConfig(s, c.rootfs, 'lxc.environment = FROM_CONFIG=set\n', VARIABLE_WORDS));
      const runs: Record<string, { host: string[]; inside: string[] }> = {};
      for (const who of ['lxc', 'lxkit'] as const) {
        await rm(join(s.dir, 'log'), { force: true });
        await rm(join(c.rootfs, 'hooklog'), { force: true });
        const r = await c.run(who, 'start', '-F', '--', '/bin/true');
        assert.is(r.exitCode, 0, `${who}: ${String(r.stderr)}`);
        runs[who] = {
          host: normalize(await readFile(join(s.dir, 'log'), 'utf8')),
          inside: normalize(await readFile(join(c.rootfs, 'hooklog'), 'utf8')),
        };
      }
      assert.equal(runs['lxkit'], runs['lxc']);
      // LXC's busybox template writes lxc.rootfs.path = dir:…: the hooks get the path without the storage type.
      assert.match(await readFile(configFile, 'utf8'), /^lxc\.rootfs\.path = dir:\//m);
      for (const line of [...runs['lxkit']!.host, ...runs['lxkit']!.inside]) assert.match(line, / \| rootfs=\/\S+\/bb\/rootfs \| /);
      // lxc.environment reaches the hooks the first process runs, and the start hook (with the init's environment).
      const config = (l: string) => /\| config=(\S*)$/.exec(l)?.[1];
      assert.equal(runs['lxkit']!.host.map(config), ['', 'set', 'set', 'set', '', '', '']);
      assert.equal(runs['lxkit']!.inside.map(config), ['set']);
      // The line's own words first (variables expanded, the unset one gone), then LXC's arguments.
      const type = (l: string) => /^args=bb 0 x \$LXC_NAME bb lxc (\S+)/.exec(l)?.[1];
      assert.equal(runs['lxkit']!.host.map(type), ['pre-start', 'pre-mount', 'mount', 'autodev', 'start-host', 'stop', 'post-stop']);
      assert.match(runs['lxkit']!.host[5]!, / bb lxc stop mnt:FD pid:FD uts:FD ipc:FD net:FD cgroup:FD \| env=.*LXC_TARGET/);
      assert.equal(runs['lxkit']!.inside.map((l) => /^args=bb lxc (\S+)/.exec(l)?.[1]), ['start']);
    });
  },
);

async function busybox(s: Scratch): Promise<string> {
  const r = await lxkit(['create', '-n', 'bb', '-P', s.lxcpath, '-t', 'busybox', '--', '--privileged'], { env: s.env });
  assert.is(r.exitCode, 0, r.stderr);
  return join(s.lxcpath, 'bb');
}

hooks('version 1: arguments only after the script, type and section in the environment', async () => {
  await withScratch(async (s) => {
    const dir = await busybox(s);
    await writeFile(join(dir, 'config'), (await readFile(join(dir, 'config'), 'utf8')) + (await hookConfig(s, join(dir, 'rootfs'), 'lxc.hook.version = 1\n')));
    const r = await lxkit(['start', '-n', 'bb', '-P', s.lxcpath, '-F', '--', '/bin/true'], { env: s.env, input: '' });
    assert.is(r.exitCode, 0, r.stderr);
    const log = normalize(await readFile(join(s.dir, 'log'), 'utf8'));
    assert.is(log.length, 7);
    for (const line of log) {
      assert.match(line, /^args= \| env=/, 'no arguments');
      assert.match(line, /LXC_HOOK_SECTION LXC_HOOK_TYPE LXC_HOOK_VERSION/);
    }
    assert.match(log[5]!, /LXC_MNT_NS LXC_NAME LXC_NET_NS LXC_PID LXC_PID_NS/, 'stop gets the namespaces in its environment');
  });
});

hooks('a failing pre-start aborts the start; post-stop still runs; nothing stays mounted', async () => {
  await withScratch(async (s) => {
    const dir = await busybox(s);
    const marker = join(s.dir, 'post-stop-ran');
    await writeFile(join(s.dir, 'fail.sh'), '#!/bin/sh\necho "no disk for $1" >&2\nexit 3\n', { mode: 0o755 });
    await writeFile(join(s.dir, 'post.sh'), `#!/bin/sh\necho "$LXC_NAME $3 $LXC_TARGET" > ${marker}\n`, { mode: 0o755 });
    await writeFile(
      join(dir, 'config'),
      (await readFile(join(dir, 'config'), 'utf8')) + `lxc.hook.pre-start = ${join(s.dir, 'fail.sh')}\nlxc.hook.post-stop = ${join(s.dir, 'post.sh')}\n`,
    );
    const before = await hostMounts();
    const r = await lxkit(['start', '-n', 'bb', '-P', s.lxcpath, '-F', '--', '/bin/true'], { env: s.env, input: '' });
    assert.is(r.exitCode, 1);
    assert.match(r.stderr, /preStart hook of plugin "hook-scripts" failed: lxc\.hook\.pre-start .*fail\.sh bb lxc pre-start exited with status 3: no disk for bb/);
    assert.is(await readFile(marker, 'utf8'), 'bb post-stop stop\n');
    assert.equal(await hostMounts(), before);
  });
});

hooks('a failing mount hook (inside the container) aborts the start with its output', async () => {
  await withScratch(async (s) => {
    const dir = await busybox(s);
    await writeFile(join(s.dir, 'mnt.sh'), '#!/bin/sh\necho "cannot prepare $LXC_ROOTFS_MOUNT"\nexit 7\n', { mode: 0o755 });
    await writeFile(join(dir, 'config'), (await readFile(join(dir, 'config'), 'utf8')) + `lxc.hook.mount = ${join(s.dir, 'mnt.sh')}\n`);
    const r = await lxkit(['start', '-n', 'bb', '-P', s.lxcpath, '-F', '--', '/bin/true'], { env: s.env, input: '' });
    assert.is(r.exitCode, 1);
    assert.match(r.stderr, new RegExp(`running the mount hook .*mnt\\.sh \\(.*config:\\d+: lxc\\.hook\\.mount\\): exited with status 7; cannot prepare ${join(dir, 'rootfs')}$`));
  });
});

hooks('a hook script may be a zx script', async () => {
  await withScratch(async (s) => {
    const dir = await busybox(s);
    const out = join(s.dir, 'zx-ran');
    await writeFile(
      join(s.dir, 'hook.mjs'),
      `#!/usr/bin/env zx\nawait fs.writeFile(${JSON.stringify(out)}, [process.env.LXC_NAME, ...process.argv.slice(3)].join(' '))\n`,
      { mode: 0o755 },
    );
    await writeFile(join(dir, 'config'), (await readFile(join(dir, 'config'), 'utf8')) + `lxc.hook.pre-start = ${join(s.dir, 'hook.mjs')}\n`);
    const r = await lxkit(['start', '-n', 'bb', '-P', s.lxcpath, '-F', '--', '/bin/true'], { env: s.env, input: '' });
    assert.is(r.exitCode, 0, r.stderr);
    assert.is(await readFile(out, 'utf8'), 'bb bb lxc pre-start');
  });
});

hooks("post-stop runs once the container's namespaces are released; stop still has them", async () => {
  await withScratch(async (s) => {
    const dir = await busybox(s);
    const ns = join(s.dir, 'mnt-ns');
    const out = join(s.dir, 'seen');
    // The stop hook's mnt:PATH argument is the monitor's reference to the mount namespace.
    await writeFile(join(s.dir, 'stop.sh'), `#!/bin/sh\nfor a in "$@"; do case "$a" in mnt:*) echo "\${a#mnt:}" > ${ns};; esac; done\ntest -e "$(cat ${ns})" && echo "stop: held" >> ${out}\n`, { mode: 0o755 });
    await writeFile(join(s.dir, 'post.sh'), `#!/bin/sh\nif test -e "$(cat ${ns})"; then echo "post-stop: held" >> ${out}; else echo "post-stop: released" >> ${out}; fi\n`, { mode: 0o755 });
    await writeFile(join(dir, 'config'), (await readFile(join(dir, 'config'), 'utf8')) + `lxc.hook.stop = ${join(s.dir, 'stop.sh')}\nlxc.hook.post-stop = ${join(s.dir, 'post.sh')}\n`);
    const r = await lxkit(['start', '-n', 'bb', '-P', s.lxcpath, '-F', '--', '/bin/true'], { env: s.env, input: '' });
    assert.is(r.exitCode, 0, r.stderr);
    assert.is(await readFile(out, 'utf8'), 'stop: held\npost-stop: released\n');
  });
});

/**
 * lxc.monitor.unshare: a pre-start script that mounts a tmpfs into the rootfs
 * (recording whether it runs in the host's mount namespace), and a post-stop
 * script that records whether it still sees that tmpfs, then unmounts it.
 */
async function unshareHooks(s: Scratch, configFile: string): Promise<string> {
  const out = join(s.dir, 'unshare-log');
  const hostNs = await readlink('/proc/self/ns/mnt');
  await writeFile(
    join(s.dir, 'pre.sh'),
    `#!/bin/sh\nset -e\nif [ "$(readlink /proc/self/ns/mnt)" = "${hostNs}" ]; then echo "pre-start: host" >> ${out}; else echo "pre-start: own" >> ${out}; fi\n` +
      `mkdir -p "$LXC_ROOTFS_PATH/mnt"\nmount -t tmpfs lxkit-unshare-test "$LXC_ROOTFS_PATH/mnt"\necho marker > "$LXC_ROOTFS_PATH/mnt/marker"\n`,
    { mode: 0o755 },
  );
  await writeFile(
    join(s.dir, 'post.sh'),
    `#!/bin/sh\nif grep -q " $LXC_ROOTFS_PATH/mnt " /proc/self/mountinfo; then echo "post-stop: mounted" >> ${out}; umount "$LXC_ROOTFS_PATH/mnt"; else echo "post-stop: not mounted" >> ${out}; fi\n`,
    { mode: 0o755 },
  );
  await writeFile(configFile, (await readFile(configFile, 'utf8')) + `lxc.monitor.unshare = 1\nlxc.hook.pre-start = ${join(s.dir, 'pre.sh')}\nlxc.hook.post-stop = ${join(s.dir, 'post.sh')}\n`);
  return out;
}

/** Mount points of the test's tmpfs in the host's mount table. */
const leaks = async () =>
  (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .filter((l) => l.includes(' - tmpfs lxkit-unshare-test '))
    .map((l) => l.split(' ')[4]!);
const leaked = async () => (await leaks()).length > 0;

/** Runs `fn`; whatever it fails with, no tmpfs of the test is left mounted on the host (innermost first). */
async function withoutLeaks(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } finally {
    for (const m of (await leaks()).reverse()) await execa('umount', [m], { reject: false });
  }
}

testIf(
  hooks,
  which('lxc-execute') ? undefined : "Debian's lxc is not installed",
  "lxc.monitor.unshare: pre-start's mounts reach the container and post-stop, never the host, as with lxc-execute",
  async () => {
    // The mounts go before the container: lxc-destroy would empty a tmpfs left on its rootfs, then fail.
    await withLxcBusybox((c) => withoutLeaks(async () => {
      await c.configure('');
      const out = await unshareHooks(c.s, join(c.s.lxcpath, 'bb', 'config'));
      const runs: Record<string, { stdout: string; log: string }> = {};
      for (const who of ['lxc', 'lxkit'] as const) {
        await rm(out, { force: true });
        const r = await c.run(who, 'execute', '--', 'cat', '/mnt/marker');
        assert.is(r.exitCode, 0, `${who}: ${String(r.stderr)}`);
        runs[who] = { stdout: String(r.stdout).trim(), log: await readFile(out, 'utf8') };
        assert.not.ok(await leaked(), `${who} left the pre-start mount on the host`);
      }
      assert.equal(runs['lxkit'], { stdout: 'marker', log: 'pre-start: own\npost-stop: mounted\n' });
      assert.equal(runs['lxkit'], runs['lxc']);
    }));
  },
);

hooks('lxc.monitor.unshare: a daemon keeps its pre-start mounts off the host while it runs, and its post-stop sees them', async () => {
  await withScratch((s) => withoutLeaks(async () => {
    const dir = await busybox(s);
    const out = await unshareHooks(s, join(dir, 'config'));
    try {
      const r = await lxkit(['start', '-n', 'bb', '-P', s.lxcpath, '-d'], { env: s.env });
      assert.is(r.exitCode, 0, r.stderr);
      assert.not.ok(await leaked(), 'the pre-start mount is on the host while the container runs');
      const seen = await lxkit(['attach', '-n', 'bb', '-P', s.lxcpath, '--', 'cat', '/mnt/marker'], { env: s.env });
      assert.is(seen.stdout.trim(), 'marker', seen.stderr);
      const stop = await lxkit(['stop', '-n', 'bb', '-P', s.lxcpath, '-k'], { env: s.env });
      assert.is(stop.exitCode, 0, stop.stderr);
      assert.is(await readFile(out, 'utf8'), 'pre-start: own\npost-stop: mounted\n');
    } finally {
      // A failed run leaves the container running: stopped here, so that post-stop undoes its mount.
      await lxkit(['stop', '-n', 'bb', '-P', s.lxcpath, '-k'], { env: s.env });
    }
    assert.not.ok(await leaked(), 'the pre-start mount is on the host');
  }));
});

hooks.run();
