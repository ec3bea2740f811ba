/**
 * @kernel-vm
 *
 * Checkpoint and restore with criu (the criu plugin): a busybox container
 * (its console and gettys too) with a counting shell in it is written to
 * disk and stopped, then brought back — same processes, same pids inside,
 * its shell's count going on from where it was, its tmpfs files back, its
 * loopback passing packets — and stopped for good with nothing left; a
 * container on a bridge gets its veth back there; an unprivileged one comes
 * back in its user namespace, its gettys reached on their new ptys
 * (storage: checkpoint-storage.test.ts). criu works in the kernel-feature VM;
 * on a host where `criu check` fails only what needs no criu runs: the
 * refusals, each naming what is wrong and leaving nothing behind, the ptys a
 * dump would name, and the ptys a restore hands to its restorer.
 */
import { existsSync } from 'node:fs';
import { appendFile, chmod, copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Container, createRuntime, definePlugin, installedBuiltins, type OpenedPty } from '@lxkit/core';
import { containerPtys } from '@lxkit/plugin-criu';
import { needs } from '../lib/features.js';
import { portsGone, withBridge, withWire } from '../lib/net.js';
import { asNobodyIn, busyboxIn, containerCgroups, LXKIT_BIN, lxkitIn, testIf, until, which, withScratch, type Scratch } from '../lib/harness.js';
import { attach, CARRIED, PTYLESS, processes, state } from '../lib/checkpoint.js';

const t = suite('checkpoint');

/** Every number the shell has written into the container's rootfs, in order (the file is on disk: no checkpoint rewinds it). */
const counted = async (s: Scratch, name: string) =>
  (await readFile(join(s.lxcpath, name, 'rootfs', 'count'), 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
/** The shell's last number. */
const count = async (s: Scratch, name: string) => (await counted(s, name)).at(-1) ?? 0;

/** The busybox template's console and two ttys (a getty on each), in a network namespace of its own with only its loopback. */
const WITH_TTYS = 'lxc.net.0.type = empty\n';

/** A running container whose shell counts in memory (appending each number to /count) and keeps a file on a tmpfs; its processes but sleep. */
async function counting(s: Scratch, name: string, config = WITH_TTYS): Promise<string> {
  await busyboxIn(s, name, config);
  const st = await lxkitIn(s, 'start', '-n', name);
  assert.is(st.exitCode, 0, st.stderr);
  // A daemon of its own session: criu dumps no process whose session leader (lxkit attach's) is outside the container.
  const bg = await attach(s, name, "echo kept > /dev/shm/file; setsid /bin/sh -c 'i=0; while :; do i=$((i+1)); echo $i >> /count; sleep 0.1; done' </dev/null >/dev/null 2>&1 &");
  assert.is(bg.exitCode, 0, bg.stderr);
  await until(async () => ((await count(s, name)) >= 3 ? true : undefined), 20_000, 'the shell counts');
  return processes(s, name);
}

/** The image files in `dir` whose name matches `re`. */
const images = async (dir: string, re: RegExp) => (await readdir(dir)).filter((f) => re.test(f));

testIf(t, needs('criu'), 'checkpoint -s writes the container to disk, its memory pages through a page server (as a migration sends them), and stops it; -r brings the same processes back, counting on from where they were, with their tmpfs and a loopback that passes packets; the stop after leaves nothing', () =>
  withScratch(async (s) => {
    const before = await counting(s, 'c1');
    const dir = join(s.dir, 'ck');
    // The receiving side of a migration: criu's page server on the loopback, writing the pages into a directory of its own.
    const received = join(s.dir, 'received');
    await mkdir(received);
    const port = 20000 + Math.floor(Math.random() * 20000);
    // --daemon returns once it listens; its output goes to its log, not to pipes this process would wait on until it ends.
    const serverLog = join(s.dir, 'page-server.log');
    const server = await execa(
      'criu',
      ['page-server', '--daemon', '--images-dir', received, '--address', '127.0.0.1', '--port', String(port), '--pidfile', join(received, 'server.pid'), '--log-file', serverLog],
      { reject: false, stdio: 'ignore' },
    );
    assert.is(server.exitCode, 0, await readFile(serverLog, 'utf8').catch(() => ''));
    const serverPid = Number(await readFile(join(received, 'server.pid'), 'utf8'));
    try {
      const ck = await lxkitIn(s, 'checkpoint', '-n', 'c1', '-D', dir, '-s', '--page-server', `127.0.0.1:${port}`);
      assert.is(ck.exitCode, 0, ck.stderr);
    } finally {
      // It ends with the dump's connection; not if the dump never came.
      await until(async () => (existsSync(`/proc/${serverPid}`) ? (process.kill(serverPid, 'SIGTERM'), undefined) : true), 10_000, 'the page server ends');
    }
    assert.is(await state(s, 'c1'), 'STOPPED');
    assert.ok(existsSync(join(dir, 'inventory.img')), 'criu images');
    assert.ok(existsSync(join(dir, 'dump.log')), "criu's log beside them");
    assert.equal(await images(dir, /^pages-/), [], 'no memory pages in the directory');
    assert.ok((await images(received, /^pages-.*\.img$/)).length > 0, 'the pages are on the receiving side');
    assert.equal(await containerCgroups(['c1']), [], 'the stopped container has no cgroup left');
    // Without them no restore: it fails with criu's own complaint from its log, and leaves nothing.
    const without = await lxkitIn(s, 'checkpoint', '-n', 'c1', '-D', dir, '-r');
    assert.is(without.exitCode, 1);
    assert.match(without.stderr, new RegExp(`restoring container "c1" from ${dir}: criu exited with status 1[\\s\\S]*criu's log \\(${dir}/restore\\.log\\):\\n.*Error`));
    assert.is(await state(s, 'c1'), 'STOPPED');
    assert.equal(await containerCgroups(['c1']), []);
    // What the page server received goes beside the rest of the images.
    for (const f of await images(received, /\.img$/)) await copyFile(join(received, f), join(dir, f));
    const atDump = await count(s, 'c1');
    await new Promise((r) => setTimeout(r, 300));
    assert.is(await count(s, 'c1'), atDump, 'nothing counts while it is on disk');

    const r = await lxkitIn(s, 'checkpoint', '-n', 'c1', '-D', dir, '-r');
    assert.is(r.exitCode, 0, r.stderr);
    assert.is(await state(s, 'c1'), 'RUNNING');
    await until(async () => ((await count(s, 'c1')) > atDump + 2 ? true : undefined), 20_000, 'the shell counts again');
    // The restored shell went on from its number at the dump: one run of numbers, never back to 1.
    const all = await counted(s, 'c1');
    assert.equal(all, all.map((_, i) => i + 1), 'one unbroken count');
    assert.is(await processes(s, 'c1'), before, 'the same processes with the same pids inside');
    const shm = await attach(s, 'c1', 'cat /dev/shm/file; hostname');
    assert.is(shm.stdout, 'kept\nc1');
    const ping = await attach(s, 'c1', 'ping -c 1 -W 2 127.0.0.1 >/dev/null && echo passes');
    assert.is(ping.stdout, 'passes', `criu's network lock is gone: ${ping.stderr}`);
    assert.is((await lxkitIn(s, 'info', '-n', 'c1', '-p')).exitCode, 0);

    const stop = await lxkitIn(s, 'stop', '-n', 'c1', '-k');
    assert.is(stop.exitCode, 0, stop.stderr);
    assert.is(await state(s, 'c1'), 'STOPPED');
    assert.equal(await containerCgroups(['c1']), []);
  }),
);

testIf(t, needs('criu'), 'checkpoint without -s leaves the container running; a restore after a stop goes back to the checkpoint; a restore with -F halts the container on SIGTERM', () =>
  withScratch(async (s) => {
    await counting(s, 'c2');
    const dir = join(s.dir, 'ck');
    const ck = await lxkitIn(s, 'checkpoint', '-n', 'c2', '-D', dir);
    assert.is(ck.exitCode, 0, ck.stderr);
    assert.is(await state(s, 'c2'), 'RUNNING');
    const atDump = await count(s, 'c2');
    await until(async () => ((await count(s, 'c2')) > atDump + 5 ? true : undefined), 20_000, 'it counts on after the checkpoint');
    assert.is((await lxkitIn(s, 'stop', '-n', 'c2', '-k')).exitCode, 0);
    const beforeRestore = await count(s, 'c2');
    const r = await lxkitIn(s, 'checkpoint', '-n', 'c2', '-D', dir, '-r', '-d');
    assert.is(r.exitCode, 0, r.stderr);
    await until(async () => ((await counted(s, 'c2')).length > beforeRestore + 2 ? true : undefined), 20_000, 'the restored shell counts');
    // After the stop's last number, the restored shell goes on from its number at the checkpoint.
    const all = await counted(s, 'c2');
    assert.equal(all.slice(0, beforeRestore), Array.from({ length: beforeRestore }, (_, i) => i + 1));
    const first = all[beforeRestore]!;
    assert.ok(first > 1 && first <= atDump + 1, `back at the checkpoint (${atDump}), not at the stop (${beforeRestore}) nor at 1: ${first}`);
    assert.equal(all.slice(beforeRestore), all.slice(beforeRestore).map((_, i) => first + i), 'counting on from there');
    assert.is((await lxkitIn(s, 'stop', '-n', 'c2', '-k')).exitCode, 0);
    assert.equal(await containerCgroups(['c2']), []);

    // -F: lxkit stays with the restored container, and SIGTERM to it halts the container (lxc.signal.halt), as with start -F.
    // execa would SIGKILL lxkit 5 s after the SIGTERM below; the halt and its clean-up under emulation may take longer.
    const fg = execa(process.execPath, [LXKIT_BIN, 'checkpoint', '-n', 'c2', '-P', s.lxcpath, '-D', dir, '-r', '-F'], {
      env: { ...s.env, NODE_EXTRA_CA_CERTS: '' },
      reject: false,
      forceKillAfterDelay: false,
    });
    try {
      await until(async () => ((await state(s, 'c2')) === 'RUNNING' ? true : undefined), 20_000, 'restored in the foreground');
      fg.kill('SIGTERM');
      const done = await fg;
      assert.is(done.exitCode, 0, `${done.signal ?? ''} ${String(done.stderr)}`);
      assert.is(await state(s, 'c2'), 'STOPPED', 'halted');
    } finally {
      fg.kill('SIGKILL');
      await fg;
    }
    assert.equal(await containerCgroups(['c2']), []);
  }),
);

/** `lxkit console -t TTY` on pipes (the VM has no python for a pty): Enter, then what the tty answers within `ms`, then Ctrl-a q. */
async function onTty(s: Scratch, name: string, tty: number, expect: RegExp, ms = 20_000): Promise<string> {
  const c = execa(process.execPath, [LXKIT_BIN, 'console', '-P', s.lxcpath, '-n', name, '-t', String(tty)], { env: { ...s.env, NODE_EXTRA_CA_CERTS: '' }, reject: false, stdin: 'pipe' });
  let out = '';
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await until(async () => (/Connected to tty/.test(out) ? true : undefined), ms, `lxkit console -t ${tty} connects`);
    c.stdin!.write('\r');
    await until(async () => (expect.test(out) ? true : undefined), ms, `${expect} on tty ${tty}: ${JSON.stringify(out)}`);
    c.stdin!.write('\x01q');
    assert.is((await c).exitCode, 0, out);
    return out;
  } finally {
    c.kill('SIGKILL');
    await c;
  }
}

testIf(t, needs('criu'), "an unprivileged container (lxc.idmap) comes back in its user namespace, its gettys and console on new ptys of the monitor's, owned as they were: a getty started again opens its tty, lxkit console reaches it, the console is logged; its images are lent to its root for the restore and given back; a config without a console is refused", () =>
  withScratch(async (s) => {
    const log = join(s.dir, 'console.log');
    // Root's unprivileged busybox container: the template's idmap and console (a shell waiting on it), its two gettys, and a third
    // tty nobody holds, laid out in lxc.tty.dir (the console bound twice, /dev/ttyN links).
    await busyboxIn(s, 'u1', `lxc.net.0.type = empty\nlxc.tty.max = 3\nlxc.tty.dir = lxc\nlxc.console.logfile = ${log}\n`, []);
    assert.is((await lxkitIn(s, 'start', '-n', 'u1')).exitCode, 0);
    try {
      const before = await until(async () => {
        const ps = await processes(s, 'u1');
        return /getty -L tty1/.test(ps) && /getty -L tty2/.test(ps) ? ps : undefined;
      }, 30_000, 'both gettys run');
      await until(async () => (/Please press Enter to activate this console/.test(await readFile(log, 'utf8').catch(() => '')) ? true : undefined), 20_000, 'the console is logged');
      const ttysBefore = (await attach(s, 'u1', 'stat -L -c "%n %U %G %a" /dev/tty1 /dev/tty2 /dev/tty3 /dev/console')).stdout;
      assert.match(ttysBefore, /^\/dev\/tty1 root \w+ \d+\n\/dev\/tty2 root \w+ \d+\n\/dev\/tty3 root tty 620\n\/dev\/console root tty \d+$/);
      const dir = join(s.dir, 'ck');
      const ck = await lxkitIn(s, 'checkpoint', '-n', 'u1', '-D', dir, '-s');
      assert.is(ck.exitCode, 0, ck.stderr);
      assert.is(await state(s, 'u1'), 'STOPPED');
      const note = JSON.parse(await readFile(join(dir, 'lxkit-checkpoint.json'), 'utf8')) as { ptys: { kind: string; index: number; mountpoints: string[] }[] };
      assert.equal(
        note.ptys.map((p) => [p.kind, p.index, [...p.mountpoints].sort()]),
        [
          ['console', 0, ['/dev/console', '/dev/lxc/console']],
          ['tty', 1, ['/dev/lxc/tty1']],
          ['tty', 2, ['/dev/lxc/tty2']],
          ['tty', 3, ['/dev/lxc/tty3']],
        ],
      );
      const owners = async () => new Set(await Promise.all([dir, ...(await readdir(dir)).map((e) => join(dir, e))].map(async (p) => (await stat(p)).uid)));

      const r = await lxkitIn(s, 'checkpoint', '-n', 'u1', '-D', dir, '-r');
      assert.is(r.exitCode, 0, r.stderr);
      assert.equal([...(await owners())], [0], "the images are root's again");
      assert.is(await processes(s, 'u1'), before, 'the same processes with the same pids inside');
      const inside = await attach(s, 'u1', 'cat /proc/self/uid_map; stat -L -c "%n %U %G %a" /dev/tty1 /dev/tty2 /dev/tty3 /dev/console');
      assert.equal(inside.stdout.split('\n').map((l) => l.trim().split(/\s+/).join(' ')), ['0 100000 65536', ...ttysBefore.split('\n')], "the container's own maps; its ttys owned as before (a getty makes its tty root's; the free tty3, a new pty of the host's, is given to its root and tty group)");
      // The getty on tty1 ends; busybox init starts another, which opens /dev/tty1 by its path.
      const killed = await attach(s, 'u1', "kill $(ps -o pid,args | awk '/getty -L tty1/ && !/awk/ {print $1}')");
      assert.is(killed.exitCode, 0, killed.stderr);
      await until(async () => ((await processes(s, 'u1')) !== before && /getty -L tty1/.test(await processes(s, 'u1')) ? true : undefined), 30_000, 'a new getty on tty1');
      await onTty(s, 'u1', 1, /u1 login: /);
      const marked = await attach(s, 'u1', 'echo after-the-restore > /dev/console');
      assert.is(marked.exitCode, 0, marked.stderr);
      await until(async () => (/after-the-restore/.test(await readFile(log, 'utf8')) ? true : undefined), 20_000, "what the restored container writes on its console is in the console's log");
      assert.is((await lxkitIn(s, 'stop', '-n', 'u1', '-k')).exitCode, 0);
      assert.equal(await containerCgroups(['u1']), []);

      // The checkpoint's console needs one: a config that gives none is refused before criu runs, naming the key.
      await appendFile(join(s.lxcpath, 'u1', 'config'), 'lxc.console.path = none\n');
      const none = await lxkitIn(s, 'checkpoint', '-n', 'u1', '-D', dir, '-r');
      assert.is(none.exitCode, 1);
      assert.match(none.stderr, /cannot restore container "u1" from .*: the checkpoint has a console, and lxc\.console\.path = none \(.*config:\d+\) gives it none/);
      assert.is(await state(s, 'u1'), 'STOPPED');
      assert.equal(await containerCgroups(['u1']), [], 'the refused restore removed its cgroups');
      assert.equal([...(await owners())], [0], "the images are root's after a refused restore too");
    } finally {
      await lxkitIn(s, 'stop', '-n', 'u1', '-k');
    }
  }),
);

testIf(t, needs('criu'), 'a container on a bridge: the restore makes its veth again on the bridge, named in the running config, with the address and MAC address inside kept; the bridge is reached before and after', () =>
  withBridge('10.219.9.1/24', (bridge) =>
    withScratch(async (s) => {
      const net = ['type = veth', `link = ${bridge}`, 'flags = up', 'hwaddr = 02:16:3e:00:09:02', 'ipv4.address = 10.219.9.2/24'].map((l) => `lxc.net.0.${l}\n`).join('');
      const before = await counting(s, 'c3', PTYLESS + net);
      const reach = async () => (await attach(s, 'c3', 'ping -c 1 -W 2 10.219.9.1 >/dev/null && echo reached; cat /sys/class/net/eth0/address; ip -4 -o addr show dev eth0 | grep -o "inet [^ ]*"')).stdout;
      const seen = 'reached\n02:16:3e:00:09:02\ninet 10.219.9.2/24';
      assert.is(await reach(), seen);
      // From the running config: lxkit info's Link line (-c shows the config's own value, as lxc-info -c does).
      const hostEnd = async () => (await lxkitIn(s, 'info', '-n', 'c3', '-S')).stdout.match(/^Link: +(\S+)$/m)?.[1];
      const first = await hostEnd();

      const dir = join(s.dir, 'ck');
      const ck = await lxkitIn(s, 'checkpoint', '-n', 'c3', '-D', dir, '-s');
      assert.is(ck.exitCode, 0, ck.stderr);
      await portsGone(bridge);
      const r = await lxkitIn(s, 'checkpoint', '-n', 'c3', '-D', dir, '-r');
      assert.is(r.exitCode, 0, r.stderr);
      const second = await hostEnd();
      assert.match(first ?? '', /^veth[A-Za-z0-9]{6}$/);
      assert.match(second ?? '', /^veth[A-Za-z0-9]{6}$/, "the restored container's Link line");
      assert.is.not(second, first, 'a new host end (the old one went with the stopped container)');
      assert.equal(await readdir(`/sys/class/net/${bridge}/brif`), [second!], 'on the bridge');
      assert.is(await reach(), seen, 'the bridge reached from the restored container, with its address and MAC address');
      assert.is(await processes(s, 'c3'), before, 'the same processes');

      assert.is((await lxkitIn(s, 'stop', '-n', 'c3', '-k')).exitCode, 0);
      await portsGone(bridge);
      assert.equal(await containerCgroups(['c3']), []);
    }),
  ),
);

testIf(t, needs('criu'), 'a container with a macvlan on a wire: the restore makes the macvlan again on its parent, and the far end is reached before and after', () =>
  withWire('10.219.10.1/24', ({ near }) =>
    withScratch(async (s) => {
      const net = ['type = macvlan', `link = ${near}`, 'macvlan.mode = bridge', 'flags = up', 'name = mv0', 'ipv4.address = 10.219.10.2/24'].map((l) => `lxc.net.0.${l}\n`).join('');
      await counting(s, 'c4', PTYLESS + net);
      const reach = async () => (await attach(s, 'c4', 'ping -c 1 -W 2 10.219.10.1 >/dev/null && echo reached; ip -4 -o addr show dev mv0 | grep -o "inet [^ ]*"')).stdout;
      assert.is(await reach(), 'reached\ninet 10.219.10.2/24');
      const dir = join(s.dir, 'ck');
      const ck = await lxkitIn(s, 'checkpoint', '-n', 'c4', '-D', dir, '-s');
      assert.is(ck.exitCode, 0, ck.stderr);
      const r = await lxkitIn(s, 'checkpoint', '-n', 'c4', '-D', dir, '-r');
      assert.is(r.exitCode, 0, r.stderr);
      assert.is(await reach(), 'reached\ninet 10.219.10.2/24', 'the far end reached from the restored container');
      assert.is((await lxkitIn(s, 'stop', '-n', 'c4', '-k')).exitCode, 0);
      assert.equal(await containerCgroups(['c4']), []);
    }),
  ),
);

t("a restore's ptys: the monitor opens one of the host's for each asked, and the restorer gets their slaves at fds 3, 4, … (no more); a failed restore leaves none of them", () =>
  withScratch(async (s) => {
    const out = join(s.dir, 'fds');
    const opened: OpenedPty[] = [];
    // A stand-in for criu: what it was handed, then a failure, which the core must undo.
    const probe = definePlugin({
      name: 'pty-probe',
      version: '0.0.0',
      apply(runtime) {
        runtime.hooks.checkpointer.tap('pty-probe', () => ({
          name: 'pty-probe',
          unsupported: () => undefined,
          dump: async () => {},
          async restorer(req) {
            opened.push(...(await req.openPtys([{ kind: 'console', index: 0 }, { kind: 'tty', index: 1 }, { kind: 'tty', index: 2 }])));
            return { argv: ['/bin/sh', '-c', `for fd in 3 4 5 6; do echo "$fd $(readlink /proc/self/fd/$fd)"; done > ${out}; exit 3`], pidFile: join(s.dir, 'pid') };
          },
        }));
      },
    });
    const runtime = await createRuntime({ plugins: [...installedBuiltins().filter((p) => p.use !== 'criu'), { use: probe }] });
    await busyboxIn(s, 'p1', 'lxc.net.0.type = empty\n');
    const c = new Container('p1', { lxcpath: s.lxcpath, runtime });
    await mkdir(join(s.dir, 'ck'));
    const err = await c.restore({ directory: join(s.dir, 'ck') }).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.match(String(err), /restoring container "p1" from .*ck: \/bin\/sh exited with status 3/);
    assert.equal(
      opened.map((p) => [p.kind, p.index, p.fd]),
      [
        ['console', 0, 3],
        ['tty', 1, 4],
        ['tty', 2, 5],
      ],
    );
    for (const p of opened) assert.match(p.path, /^\/dev\/pts\/\d+$/);
    assert.is(await readFile(out, 'utf8'), `${opened.map((p) => `${p.fd} ${p.path}`).join('\n')}\n6 \n`, "the slaves at 3, 4, 5, and nothing of the monitor's after them");
    assert.is(await c.state(), 'STOPPED');
    for (const p of opened) assert.not.ok(existsSync(p.path), `${p.path} is closed everywhere`);
    assert.equal(await containerCgroups(['p1']), []);
  }),
);

testIf(t, which('criu') ? undefined : 'criu is not installed (Debian package criu)', "the features a migration may rely on (LXC's MIGRATE_FEATURE_CHECK) are criu's answers to its check of each, by names criu knows; an unknown feature is a usage error", async () => {
  const c = new Container('any', { lxcpath: '/nonexistent' });
  const criuNames = { 'mem-track': 'mem_dirty_track', 'lazy-pages': 'uffd-noncoop' } as const;
  const expected = { supported: [] as string[], unsupported: [] as string[] };
  for (const [feature, name] of Object.entries(criuNames)) {
    const asked = await execa('criu', ['check', '--feature', name], { reject: false, all: true });
    assert.not.match(String(asked.all), /Unknown feature/, `criu knows ${name}`);
    (asked.exitCode === 0 ? expected.supported : expected.unsupported).push(feature);
  }
  assert.equal(await c.checkpointFeatures(['mem-track', 'lazy-pages']), expected);
  const unknown = await c.checkpointFeatures(['teleport' as never]).then(
    () => undefined,
    (e: Error) => e.message,
  );
  assert.is(unknown, 'checkpoint feature "teleport" is unknown (known: mem-track, lazy-pages)');
});

t('refusals name what is wrong and leave nothing: a stopped container, a restore from a missing or foreign directory, flags of the other action; the console and ttys a dump would carry', () =>
  withScratch(async (s) => {
    await busyboxIn(s, 'r1', CARRIED);
    const dir = join(s.dir, 'ck');
    const stopped = await lxkitIn(s, 'checkpoint', '-n', 'r1', '-D', dir);
    assert.is(stopped.exitCode, 1);
    assert.match(stopped.stderr, /container "r1" is not running: only a running container can be checkpointed/);

    // What a dump tells criu of the console and ttys (no criu needed): each pty bound in the container, as the init sees it.
    await busyboxIn(s, 'r2', 'lxc.tty.dir = lxc\n');
    assert.is((await lxkitIn(s, 'start', '-n', 'r2')).exitCode, 0);
    try {
      const pid = Number((await lxkitIn(s, 'info', '-n', 'r2', '-p', '-H')).stdout);
      const ptys = await containerPtys(pid);
      assert.equal(
        ptys.map((p) => [p.kind, p.index, [...p.mountpoints].sort()]),
        [
          ['console', 0, ['/dev/console', '/dev/lxc/console']],
          ['tty', 1, ['/dev/lxc/tty1']],
          ['tty', 2, ['/dev/lxc/tty2']],
        ],
      );
      for (const p of ptys) {
        const st = await stat(`/proc/${pid}/root${p.mountpoints[0]}`, { bigint: true });
        assert.is(p.id, `tty[${st.rdev.toString(16)}:${st.dev.toString(16)}]`, `criu's key of ${p.mountpoints[0]}`);
      }
    } finally {
      assert.is((await lxkitIn(s, 'stop', '-n', 'r2', '-k')).exitCode, 0);
    }

    const missing = await lxkitIn(s, 'checkpoint', '-n', 'r1', '-r', '-D', join(s.dir, 'nowhere'));
    assert.is(missing.exitCode, 1);
    assert.match(missing.stderr, new RegExp(`cannot restore container "r1": the checkpoint directory ${join(s.dir, 'nowhere')} does not exist`));

    // A directory that is no checkpoint of lxkit's: refused after pre-start, which is undone.
    await mkdir(dir);
    await writeFile(join(dir, 'other'), '');
    const foreign = await lxkitIn(s, 'checkpoint', '-n', 'r1', '-r', '-D', dir);
    assert.is(foreign.exitCode, 1);
    assert.match(foreign.stderr, new RegExp(`cannot restore container "r1": ${dir} holds no checkpoint of lxkit's \\(no lxkit-checkpoint.json\\)`));
    assert.is(await state(s, 'r1'), 'STOPPED');
    assert.equal(await containerCgroups(['r1', 'r2']), [], 'the aborted restore removed its cgroups');

    // criu is root's: a user other than root is refused before anything is made (the config let readable to it).
    const asNobody = await asNobodyIn(s);
    await chmod(join(s.lxcpath, 'r1'), 0o755);
    await chmod(join(s.lxcpath, 'r1', 'config'), 0o644);
    const user = await asNobody(['checkpoint', '-n', 'r1', '-r', '-D', join(s.dir, 'nobody')]);
    assert.is(user.exitCode, 1, user.stderr);
    assert.match(user.stderr, /container "r1" cannot be checkpointed by criu: criu runs as the host's root only: run lxkit checkpoint as root/, user.stderr);

    // LXC's migrate options, checked before anything is asked of the container.
    const notPort = await lxkitIn(s, 'checkpoint', '-n', 'r1', '-D', dir, '--page-server', 'somewhere');
    assert.equal([notPort.exitCode, notPort.stderr], [1, 'lxkit-checkpoint: r1: --page-server: "somewhere" is not ADDRESS:PORT']);
    const ghost = await lxkitIn(s, 'checkpoint', '-n', 'r1', '-D', dir, '--ghost-limit', '1M');
    assert.equal([ghost.exitCode, ghost.stderr], [1, 'lxkit-checkpoint: r1: --ghost-limit: "1M" is not a number of bytes']);
    const onRestore = await lxkitIn(s, 'checkpoint', '-n', 'r1', '-D', dir, '-r', '--no-skip-in-flight');
    assert.equal([onRestore.exitCode, onRestore.stderr], [1, 'lxkit-checkpoint: r1: --no-skip-in-flight is for a checkpoint']);
    const lib = await new Container('r1', { lxcpath: s.lxcpath }).checkpoint({ directory: dir, pageServer: { address: '127.0.0.1', port: 70000 } }).then(
      () => undefined,
      (e: Error) => e.message,
    );
    assert.is(lib, 'pageServer.port: 70000 is no port (1-65535)');

    const usage = await lxkitIn(s, 'checkpoint', '-n', 'r1', '-D', dir, '-F');
    assert.is(usage.exitCode, 1);
    assert.match(usage.stderr, /-F is for a restore \(-r\)/);
    const both = await lxkitIn(s, 'checkpoint', '-n', 'r1', '-D', dir, '-r', '-s');
    assert.is(both.exitCode, 1);
    assert.match(both.stderr, /-s is for a checkpoint/);

  }),
);

t.run();
